"""Stock-RNN dashboard: run strategies, look at them against their benchmarks, browse and compare runs.

Start it with ``backtest dashboard`` (``streamlit run app.py``). Runs execute in a
worker process (``engine.jobs``) recorded in the runs directory, so a reloaded page
re-attaches to them; results land in the same store the CLI uses, and every chart
and table is drawn from the stored run (``engine.views``), so the numbers are
those of ``backtest show``. The form is checked as a whole before Run is enabled
(``engine.form``): a rejected value is shown beside its field, never replaced.
Tabs are lazy (only the open one runs) and store reads are cached on the runs
directory's modification time, so the page stays quick with hundreds of runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import typing
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from engine import run_notes, views
from engine.form import (
    CASH_RATE,
    COST,
    DATA,
    DIVIDENDS,
    END,
    HEADLINES,
    SEEDS,
    START,
    STRATEGIES,
    TIMEZONE,
    UNIVERSE,
    FormCheck,
    check_run_form,
    config_args,
    data_spec,
    param_key,
)
from engine.jobs import CANCELLED, Job, active_jobs, running_job_ids
from engine.settings import Settings
from engine.store import COMPLETE, FAILED, INCOMPLETE, RunInfo, RunStore

st.set_page_config(page_title="Stock-RNN backtests", layout="wide", menu_items={"About": None})
settings = Settings.resolve()
store = RunStore(settings.runs_dir)
SOURCES = {"bundled sample": "sample", "file (CSV/Parquet)": "file", "Yahoo cache": "yahoo"}


# --- cached reads -------------------------------------------------------------------------
def _stamp(path: Path) -> int:
    """Modification time of a folder: changes when a run folder is added, published or removed."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_data(show_spinner=False, max_entries=4)
def list_runs(root: str, stamp: int) -> list[RunInfo]:
    """The store's listing; ``stamp`` (the folder's mtime) is the cache key that expires it."""
    return RunStore(Path(root)).list()


def runs_now() -> list[RunInfo]:
    return list_runs(str(store.root), _stamp(store.root))


@st.cache_data(show_spinner=False, max_entries=32)
def load_run(root: str, run_id: str) -> tuple[dict[str, Any], pl.DataFrame]:
    """A complete run's payload and equity frame (immutable once complete: safe to cache)."""
    runs = RunStore(Path(root))
    _, payload = runs.load_metrics(run_id)
    return payload, runs.load_equity(run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def load_weights(root: str, run_id: str) -> pl.DataFrame:
    return RunStore(Path(root)).load_weights(run_id)


@st.cache_data(show_spinner=False, max_entries=8)
def tearsheet(root: str, run_id: str, label: str) -> str:
    payload, equity = load_run(root, run_id)
    return views.tearsheet_html({**payload, "label": label}, equity, load_weights(root, run_id))


@st.cache_data(show_spinner=False, max_entries=8)
def cached_sweep_rows(root: str, stamp: int, sweep_id: str) -> list[dict[str, Any]]:
    from engine.sweep_report import sweep_rows

    return sweep_rows(RunStore(Path(root)), sweep_id)


@st.cache_data(show_spinner=False, max_entries=32)
def data_range(spec: str, cache_dir: str, stamp: int) -> tuple[dt.date, dt.date]:
    """First and last day of a data spec (``stamp``: the file's mtime, so an edited file is re-read)."""
    from feeds.sources import DataSpec, load_market

    market = load_market(DataSpec.parse(spec), cache_dir=Path(cache_dir))
    return market.dates[0].astype(object), market.dates[-1].astype(object)


@st.cache_data(show_spinner=False, ttl=300)
def strategy_catalog(plugins_dirs: str) -> dict[str, dict[str, Any]]:
    """Registered strategies -> frequency, summary and parameter fields (plugins included).

    ``plugins_dirs`` (the plugins-dir setting) is part of the cache key: other dirs, other strategies.
    """
    from strategies.registry import entries

    out: dict[str, dict[str, Any]] = {}
    for name, items in entries().items():
        if len(items) != 1:
            continue
        try:
            cls = items[0].load()
        except Exception:  # a broken plugin is listed by `backtest strategies`, not here
            continue
        fields = [
            {
                "name": field_name,
                "annotation": field.annotation,
                "default": field.default,
                "help": field.description or "",
            }
            for field_name, field in cls.Params.model_fields.items()
        ]
        out[name] = {
            "frequency": cls.frequency,
            "summary": cls.summary,
            "stochastic": cls.stochastic,
            "fields": fields,
            "params": cls.Params,
        }
    return out


@st.cache_data(show_spinner=False, max_entries=4)
def run_labels(root: str, stamp: int) -> dict[str, str]:
    """Run id -> label of every labelled run (cleared when a label is saved)."""
    return {
        i.run_id: label
        for i in RunStore(Path(root)).list()
        if i.status == COMPLETE and (label := run_notes.read(i.path)["label"])
    }


def annotation(run_id: str) -> dict[str, str]:
    return run_notes.read(store.root / run_id)


def show_table(rows: list[dict[str, Any]], **kwargs: Any) -> None:
    """A table whose empty cells (figures that do not apply) read "—"."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    st.dataframe(frame, hide_index=True, width="stretch", placeholder=views.NA, **kwargs)


# --- run view -------------------------------------------------------------------------------
def show_run(run_id: str, key: str) -> None:
    """A stored run: its exact configuration, key figures, charts and the tearsheet panels."""
    payload, equity = load_run(str(store.root), run_id)
    note = annotation(run_id)
    st.subheader(f"Run {run_id}" + (f" — {note['label']}" if note["label"] else ""))
    st.code("\n".join(views.config_lines(payload)), language=None, wrap_lines=True)
    if note["notes"]:
        st.caption(note["notes"])
    show_table(views.metrics_rows(payload))
    st.caption(views.basis_text(payload))
    items = views.series(payload, equity)
    overview, sheet, seeds_tab, files = st.tabs(
        ["Overview", "Tearsheet", "Seeds, evidence, picks", "Label, notes, downloads"],
        key=f"{key}-view",
        on_change="rerun",
    )
    if overview.open:
        with overview:
            log = st.toggle("log scale", value=True, key=f"{key}-log")
            st.plotly_chart(views.equity_figure(payload, equity, log=log), width="stretch", key=f"{key}-eq")
            st.plotly_chart(views.drawdown_figure(payload, equity), width="stretch", key=f"{key}-dd")
            st.plotly_chart(views.yearly_figure(payload), width="stretch", key=f"{key}-yearly")
            st.markdown("**Yield per calendar year, %** (* partial year)")
            show_table(views.yearly_rows(payload))
            for line in payload.get("notes", []):
                st.caption(f"note: {line}")
    if sheet.open:
        with sheet:
            tearsheet_panels(run_id, payload, items, key)
    if seeds_tab.open:
        with seeds_tab:
            seeds_panel(payload, key)
    if files.open:
        with files:
            label_and_downloads(run_id, payload, equity, note, key)


def tearsheet_panels(run_id: str, payload: dict[str, Any], items: list[dict[str, Any]], key: str) -> None:
    strategies = [s for s in items if s["role"] == "strategy"] or items
    chosen = st.selectbox("monthly returns of", [s["label"] for s in items], key=f"{key}-heat")
    st.plotly_chart(
        views.monthly_heatmap_figure(next(s for s in items if s["label"] == chosen)),
        width="stretch",
        key=f"{key}-heatmap",
    )
    st.plotly_chart(views.rolling_figure(items), width="stretch", key=f"{key}-rolling")
    if any(s["role"] == "benchmark" for s in items) and strategies is not items:
        st.plotly_chart(views.excess_figure(items), width="stretch", key=f"{key}-excess")
    weights = load_weights(str(store.root), run_id)
    st.plotly_chart(views.exposure_figure(payload, weights), width="stretch", key=f"{key}-exposure")
    st.markdown("**Turnover and costs paid**")
    show_table(views.cost_rows(payload, weights))
    left, right = st.columns(2)
    with left:
        for s in items:
            st.markdown(f"**Worst drawdowns: {s['label']}**")
            show_table(views.drawdown_periods(s["dates"], s["values"]))
    with right:
        st.plotly_chart(views.returns_histogram(items), width="stretch", key=f"{key}-hist")


def seeds_panel(payload: dict[str, Any], key: str) -> None:
    distribution = views.seed_distribution_figure(payload)
    if distribution is not None:
        st.plotly_chart(distribution, width="stretch", key=f"{key}-seeds")
    evidence = views.evidence_text(payload)
    if evidence:
        st.markdown("**Is it a fluke?**")
        st.code("\n".join(evidence[1:]), language=None, wrap_lines=True)
    ranks = views.rank_figure(payload)
    if ranks is not None:
        st.plotly_chart(ranks, width="stretch", key=f"{key}-ranks")
    bench = payload["benchmark"]["cagr"]
    for entry in payload["strategies"]:
        if views.seeded(entry):
            st.markdown(f"**{entry['name']}: every seed** (vs {views.display_name(payload['benchmark'])})")
            show_table(views.seed_rows(entry, bench))
        if entry.get("picks"):
            share = entry.get("picks_beat_median", {}).get("share")
            st.markdown(
                f"**{entry['name']}: picks per year held** — "
                f"{'' if share is None else f'{share * 100:.1f}% of picks beat the universe median stock'}"
            )
            show_table(views.picks_rows(entry))
    if payload.get("universe"):
        from engine.universe import coverage_rows

        st.markdown(f"**universe {payload['universe']['spec']}: members with prices per year**")
        show_table(coverage_rows(payload["universe"]))
    if distribution is None and not evidence and not any(e.get("picks") for e in payload["strategies"]):
        st.info("deterministic strategies: no seeds, no seed evidence")


def label_and_downloads(
    run_id: str, payload: dict[str, Any], equity: pl.DataFrame, note: dict[str, str], key: str
) -> None:
    with st.form(f"{key}-note"):
        label = st.text_input("label", value=note["label"], max_chars=run_notes.MAX_LABEL)
        notes = st.text_area("notes", value=note["notes"], max_chars=run_notes.MAX_NOTES)
        if st.form_submit_button("save label and notes"):
            run_notes.write(store.root / run_id, label, notes)
            run_labels.clear()
            tearsheet.clear()
            st.rerun()
    cols = st.columns(5)
    cols[0].download_button(
        "equity (CSV)", equity.write_csv(), file_name=f"{run_id}-equity.csv", mime="text/csv", key=f"{key}-e"
    )
    cols[1].download_button(
        "weights (CSV)",
        load_weights(str(store.root), run_id).write_csv(),
        file_name=f"{run_id}-weights.csv",
        mime="text/csv",
        key=f"{key}-w",
    )
    cols[2].download_button(
        "metrics (CSV)",
        pl.DataFrame(views.metrics_rows(payload)).write_csv(),
        file_name=f"{run_id}-metrics.csv",
        mime="text/csv",
        key=f"{key}-m",
    )
    cols[3].download_button(
        "metrics (JSON)",
        json.dumps(payload, indent=2),
        file_name=f"{run_id}-metrics.json",
        mime="application/json",
        key=f"{key}-j",
    )
    cols[4].download_button(
        "tearsheet (HTML)",
        tearsheet(str(store.root), run_id, note["label"]),
        file_name=f"{run_id}-tearsheet.html",
        mime="text/html",
        key=f"{key}-h",
    )


# --- run panel --------------------------------------------------------------------------------
def param_widget(strategy: str, field: dict[str, Any]) -> Any:
    """A widget for one parameter, from its type and default; no clamping: the form check judges."""
    key = param_key(strategy, field["name"])
    label, default, annotation_ = field["name"], field["default"], field["annotation"]
    options = typing.get_args(annotation_) if typing.get_origin(annotation_) is typing.Literal else ()
    if options:
        return st.selectbox(label, options, index=options.index(default), key=key, help=field["help"])
    if annotation_ is bool:
        return st.checkbox(label, value=bool(default), key=key, help=field["help"])
    if annotation_ is int:
        return st.number_input(label, value=int(default), step=1, key=key, help=field["help"])
    if annotation_ is float:
        return st.number_input(label, value=float(default), format="%g", key=key, help=field["help"])
    return st.text_input(label, value="" if default is None else str(default), key=key, help=field["help"])


def field_name(key: str) -> str:
    """A widget key as people read it: ``param-ma-trend-window`` -> ``ma-trend window``."""
    if key.startswith("param-"):
        strategy, _, name = key.removeprefix("param-").rpartition("-")
        return f"{strategy} {name}"
    return key


def reason(slots: dict[str, Any], key: str, check: FormCheck) -> None:
    """Write the reason for ``key``'s rejection into the slot under its widget."""
    if key in check.errors and key in slots:
        slots[key].error(check.errors[key], icon=":material/block:")


def run_panel() -> None:
    from strategies.registry import PLUGINS_ENV

    catalog = strategy_catalog(os.environ.get(PLUGINS_ENV, ""))
    slots: dict[str, Any] = {}
    c1, c2, c3 = st.columns(3)
    source = SOURCES[c1.selectbox("data", list(SOURCES), key="data-source")]
    frequency = c2.radio("signals", ["daily", "annual"], horizontal=True, key="frequency")
    path, tickers = "", []
    if source == "file":
        path = c1.text_input("file path (.csv / .parquet, or csv:PATH / parquet:PATH)", key="data-path")
    elif source == "yahoo":
        from feeds import yahoo

        tickers = c1.multiselect("tickers", yahoo.cached_tickers(settings.cache_dir), key="yahoo-tickers")
    slots[DATA] = c1.empty()
    names = [n for n, c in catalog.items() if c["frequency"] == frequency and n != "buy-and-hold"]
    default = {"daily": ["ma-trend"], "annual": ["momentum-annual"]}[frequency]
    # one selection per signal frequency: switching to annual offers annual strategies, and back
    chosen = st.multiselect(
        f"{frequency} strategies",
        names,
        default=[d for d in default if d in names],
        key=f"strategies-{frequency}",
    )
    slots[STRATEGIES] = st.empty()
    stochastic = any(catalog[n]["stochastic"] for n in chosen)
    if stochastic:
        seeds = c3.number_input("seeds", value=10, step=1, key="seeds", help="independent seeds 0..N-1")
        slots[SEEDS] = c3.empty()
    else:
        seeds = 1
        c3.caption("seeds: the chosen strategies are deterministic (one run, no seeds)")
    params: dict[str, dict[str, Any]] = {}
    for name in chosen:
        with st.expander(f"{name} — {catalog[name]['summary']}", expanded=False):
            values = {}
            for f in catalog[name]["fields"]:
                values[f["name"]] = (f, param_widget(name, f))
                slots[param_key(name, f["name"])] = st.empty()
            params[name] = {k: v for k, (f, v) in values.items() if v != f["default"] and v != ""}
    spec, spec_error = data_spec(source, path, tickers)
    span = None
    if spec is not None:
        try:
            target = Path(spec.partition(":")[2]) if ":" in spec else Path()
            span = data_range(spec, str(settings.cache_dir), _stamp(target) if target.name else 0)
        except Exception as exc:  # any unreadable file is reported at the data field
            from engine.jobs import plain_error

            spec, spec_error = None, f"cannot read the data: {plain_error(str(exc))}"
    d1, d2, d3, d4 = st.columns(4)
    limit = d1.checkbox("limit dates", key="limit-dates")
    if span:
        d1.caption(f"data: {span[0]} .. {span[1]}")
    wide = {"min_value": dt.date(1800, 1, 1), "max_value": dt.date(2100, 12, 31)}
    start = end = None
    if limit:
        start = d2.date_input("start", value=span[0] if span else dt.date(2010, 1, 1), key="start", **wide)
        slots[START] = d2.empty()
        end = d3.date_input("end", value=span[1] if span else dt.date.today(), key="end", **wide)
        slots[END] = d3.empty()
    cost = d4.number_input("costs [bps per unit traded]", value=5.0, step=1.0, key="cost", format="%g")
    slots[COST] = d4.empty()
    headlines = st.text_input("headlines (optional): csv:PATH, rss:URL, ...", key="headlines")
    slots[HEADLINES] = st.empty()
    h1, h2, h3 = st.columns(3)  # only for files whose columns are not recognized
    headline_column = h1.text_input("headline column [auto]", key="headline-column")
    time_column = h2.text_input("time column [auto]", key="time-column")
    timezone = h3.text_input("zone of times without one [America/New_York]", key="timezone")
    slots[TIMEZONE] = h3.empty()
    b1, b2, b3 = st.columns(3)
    dividends = b1.text_input(
        "dividends", value="reinvest", key="dividends", help="reinvest | exclude | csv:PATH (date,dividend)"
    )
    slots[DIVIDENDS] = b1.empty()
    cash_rate = b2.text_input(
        "cash rate (annual fraction)", value="0", key="cash-rate", help="0.03 = 3% a year, or csv:PATH"
    )
    slots[CASH_RATE] = b2.empty()
    universe = ""
    if frequency == "annual":
        universe = b3.text_input(
            "point-in-time universe (optional)", key="universe", help="sp500 | csv:PATH (ticker,start,end)"
        )
        slots[UNIVERSE] = b3.empty()
    check = check_run_form(
        data=spec,
        data_error=spec_error,
        data_range=span,
        frequency=frequency,
        strategies=params,
        params_models={n: catalog[n]["params"] for n in chosen},
        stochastic=stochastic,
        seeds=int(seeds),
        start=start,
        end=end,
        cost_bps=float(cost),
        headlines=headlines,
        headline_column=headline_column,
        time_column=time_column,
        timezone=timezone,
        dividends=dividends,
        cash_rate=cash_rate,
        universe=universe,
    )
    for key in check.errors:
        reason(slots, key, check)
    busy = st.session_state.get("job") is not None
    left, right = st.columns([1, 5])
    clicked = left.button("Run", type="primary", key="run", disabled=not check.ok or busy)
    if check.errors:
        right.warning(
            f"Run is disabled: {len(check.errors)} field(s) to fix — "
            + "; ".join(f"{field_name(k)}: {v}" for k, v in check.errors.items()),
            icon=":material/block:",
        )
    elif busy:
        right.caption("a run is in progress (see above); Run is enabled again when it ends")
    if clicked and check.config is not None:
        st.session_state["job"] = Job.start(
            config_args(check.config),
            runs_dir=settings.runs_dir,
            cache_dir=settings.cache_dir,
            echo=check.config.model_dump(mode="json"),
        )
        st.session_state.pop("job_message", None)
        st.rerun()
    message = st.session_state.get("job_message")
    if message:
        getattr(st, message[0])(message[1])
    if st.session_state.get("last_run"):
        try:
            show_run(st.session_state["last_run"], key="last")
        except Exception as exc:  # removed from the store meanwhile
            st.warning(f"run {st.session_state['last_run']} cannot be shown: {exc}")


def follow_job() -> None:
    """Re-attach to a worker run recorded in the store (after a reload), then poll it while it lasts."""
    if st.session_state.get("job") is None and not st.session_state.get("attached"):
        st.session_state["attached"] = True  # once per session: a reload re-attaches, a dismissal sticks
        pending = active_jobs(settings.runs_dir)
        if pending:
            st.session_state["job"] = pending[-1]
    if st.session_state.get("job") is not None:
        _follow_job()


@st.fragment(run_every=1.0)
def _follow_job() -> None:
    """Progress of the worker run; re-drawn every second on its own (the rest of the page stays usable)."""
    job: Job | None = st.session_state.get("job")
    if job is None:
        return
    status = job.poll()
    if status.state == "running":
        echo = job.info.get("echo") or {}
        names = ", ".join(s["name"] for s in echo.get("strategies", [])) or "default strategy"
        st.progress(status.fraction, text=f"running {names} on {echo.get('data', '?')} — {status.describe()}")
        if st.button("cancel", key="cancel"):
            job.cancel()
            job.forget()
            st.session_state.pop("job")
            st.session_state["job_message"] = (
                "warning",
                "run cancelled; it is listed as cancelled under Runs",
            )
            st.rerun()
        return
    st.session_state.pop("job")
    job.forget()
    if status.state == "gone":  # another page showed this outcome and removed the record
        st.rerun()
    if status.state == "done":
        st.session_state["job_message"] = ("success", f"run {status.run_id} stored in {settings.runs_dir}")
        st.session_state["last_run"] = status.run_id
    elif status.state == CANCELLED:
        st.session_state["job_message"] = ("warning", "run cancelled; it is listed as cancelled under Runs")
    else:
        st.session_state["job_message"] = ("error", f"the run failed: {status.error}")
    st.rerun()  # the whole page: show the new run, list it in the browser


# --- runs browser and comparison -------------------------------------------------------------------
def status_of(info: RunInfo, running: dict[str, Any]) -> str:
    job = info.manifest.get("job")
    if info.status == INCOMPLETE and job in running:
        return f"running ({running[job].fraction:.0%})"
    return info.status


def benchmark_text(info: RunInfo) -> str:
    """What the listing's benchmark figure is a benchmark of (daily: the index; annual: the universe)."""
    headline = info.manifest.get("headline", {})
    if not headline:
        return ""
    tickers = info.manifest.get("data", {}).get("tickers", [])
    annual = info.manifest.get("frequency") == "annual" and len(tickers) > 1
    what = "equal-weight universe" if annual else "buy-and-hold"
    return f"{what} {headline.get('benchmark_cagr', '')}"


def runs_browser() -> None:
    infos = runs_now()
    st.caption(f"runs directory: {settings.runs_dir} · {len(infos)} runs")
    if not infos:
        st.info("No runs yet: use the Run tab, or `backtest run` in a terminal.")
        return
    running = running_job_ids(settings.runs_dir)
    labels = run_labels(str(store.root), _stamp(store.root))
    show_table(
        [
            {
                "run": i.run_id,
                "label": labels.get(i.run_id, ""),
                "status": status_of(i, running),
                "strategies": ", ".join(i.manifest.get("strategies", [])),
                "period": i.manifest.get("headline", {}).get("period", ""),
                "CAGR (1st strategy)": i.manifest.get("headline", {}).get("cagr", ""),
                "benchmark CAGR": benchmark_text(i),
                "problem": i.error,
            }
            for i in infos
        ]
    )
    # unfinished folders only when a dashboard job made them and is gone: a CLI run may still be writing
    stale = [
        i
        for i in infos
        if i.status in (CANCELLED, FAILED)
        or (i.status == INCOMPLETE and i.manifest.get("job") and i.manifest["job"] not in running)
    ]
    if stale and st.button(f"remove {len(stale)} cancelled / failed / abandoned runs", key="clean"):
        import shutil

        for i in stale:
            shutil.rmtree(i.path, ignore_errors=True)
        st.rerun()
    complete = [i.run_id for i in infos if i.status == COMPLETE]
    if not complete:
        st.warning("no complete run to open")
        return
    chosen = st.selectbox("open run", complete, key="open-run")
    try:
        show_run(chosen, key="browse")
    except Exception as exc:  # a run folder damaged after listing: say so, keep the page
        st.error(f"run {chosen} cannot be read: {exc}")


def compare_runs() -> None:
    complete = [i.run_id for i in runs_now() if i.status == COMPLETE]
    chosen = st.multiselect("runs to compare", complete, default=complete[:2], key="compare-runs")
    if not chosen:
        st.info("choose runs to compare")
        return
    loaded = []
    for run_id in chosen:
        payload, equity = load_run(str(store.root), run_id)
        loaded.append((run_id, {**payload, "label": annotation(run_id)["label"]}, equity))
    log = st.toggle("log scale", value=True, key="cmp-log")
    st.plotly_chart(views.compare_equity_figure(loaded, log=log), width="stretch", key="cmp-equity")
    st.plotly_chart(views.compare_drawdown_figure(loaded), width="stretch", key="cmp-drawdown")
    st.markdown("**Over the common period** (each curve rebased to 1 at the common start)")
    show_table(views.compare_metric_rows(loaded))
    st.markdown("**Key figures, each run over its own period**")
    show_table([{"run": r, **row} for r, payload, _ in loaded for row in views.metrics_rows(payload)])
    for run_id, payload, _ in loaded:
        st.caption(f"{run_id}: {views.basis_text(payload)}")
    st.markdown("**Settings that differ**")
    names = [p.get("label") or r for r, p, _ in loaded]
    diff = views.param_diff_rows([p for _, p, _ in loaded], names)
    if diff:
        show_table(diff)
    else:
        st.caption("the runs have the same settings")
    st.markdown("**Yield per calendar year, %** (* partial year)")
    show_table(views.compare_yearly_rows([p for _, p, _ in loaded]))


def sweeps_view() -> None:
    """The sweep report of ``backtest sweep-report``: a table per cell and the chart."""
    from engine.sweep_report import sweep_figure

    names = sorted({i.manifest["sweep"] for i in runs_now() if i.manifest.get("sweep")})
    if not names:
        st.info("No sweeps yet: `backtest sweep SPEC.toml` (see docs/scaling.md).")
        return
    chosen = st.selectbox("sweep", names, key="sweep")
    rows = cached_sweep_rows(str(store.root), _stamp(store.root), chosen)
    table = [
        {
            "cell": r["cell"],
            "status": r["status"],
            "CAGR mean %": views.percent(r.get("cagr_mean")),
            "± std %": views.percent(r.get("cagr_std")),
            "seeds beating benchmark %": views.percent(r.get("share_beating"), 0),
            "Sharpe": None if r.get("sharpe_mean") is None else round(r["sharpe_mean"], 2),
            "benchmark %": views.percent(r.get("benchmark_cagr")),
            "PSR best": None if r.get("psr") is None else round(r["psr"], 2),
            "DSR best": None if r.get("dsr") is None else round(r["dsr"], 2),
            "run": r["run"],
            "error": r.get("error", ""),
        }
        for r in rows
    ]
    show_table(table)
    trials = next((r["trials"] for r in rows if "trials" in r), 0)
    st.caption(f"DSR deflated for {trials} trials (every seed of every cell); < 0.95: within chance")
    st.plotly_chart(sweep_figure(rows, chosen), width="stretch", key="sweep-chart")


INTRO = (
    "**What this page does.** Pick a strategy and run it: the engine trades it day by day without "
    "look-ahead, after costs, and sets it against buy-and-hold over the same period (annual stock "
    "pickers: against the equal-weight universe and the index). Learned strategies run over several "
    "seeds. The **bundled sample** is the S&P 500 index (^GSPC) and 20 large US stocks, daily, "
    "1990-2022, so everything works offline. Every run is stored; **Runs** opens one, **Compare** "
    "overlays several, **Sweeps** summarises parameter grids."
)

st.title("Stock-RNN: learned strategies vs buy-and-hold")
if not st.session_state.get("intro-seen") and st.query_params.get("intro") != "seen":
    box = st.container(border=True)
    box.markdown(INTRO)
    if box.button("got it", key="intro-ok"):
        st.session_state["intro-seen"] = True
        st.query_params["intro"] = "seen"  # in the address: a reload or bookmark skips it too
        st.rerun()
follow_job()
run_tab, runs_tab, compare_tab, sweeps_tab = st.tabs(
    ["Run", "Runs", "Compare", "Sweeps"], key="section", on_change="rerun"
)
# lazy: only the open tab runs (a widget change elsewhere never re-reads the store for hidden tabs)
if run_tab.open:
    with run_tab:
        run_panel()
if runs_tab.open:
    with runs_tab:
        runs_browser()
if compare_tab.open:
    with compare_tab:
        compare_runs()
if sweeps_tab.open:
    with sweeps_tab:
        sweeps_view()
