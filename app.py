"""Stock-RNN dashboard: run strategies, look at them against buy-and-hold, browse and compare runs.

Start it with ``backtest dashboard`` (``streamlit run app.py``). Runs execute in a
worker process (``engine.jobs``) and land in the same store the CLI uses; every
chart and table is drawn from the stored run (``engine.views``), so the numbers
are those of ``backtest show``. Strategy parameters come from the registry, so
plugins appear with theirs.
"""

from __future__ import annotations

import datetime as dt
import os
import typing
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from engine import views
from engine.jobs import Job
from engine.settings import Settings
from engine.store import COMPLETE, RunStore

st.set_page_config(page_title="Stock-RNN backtests", layout="wide")
settings = Settings.resolve()
store = RunStore(settings.runs_dir)


# --- cached reads -------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def load_run(root: str, run_id: str) -> tuple[dict[str, Any], pl.DataFrame]:
    """A complete run's payload and equity frame (immutable once complete: safe to cache)."""
    runs = RunStore(Path(root))
    _, payload = runs.load_metrics(run_id)
    return payload, runs.load_equity(run_id)


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
        fields = []
        for field_name, field in cls.Params.model_fields.items():
            meta = {
                k: getattr(m, k)
                for m in field.metadata
                for k in ("ge", "gt", "le", "lt")
                if getattr(m, k, None)
            }
            fields.append(
                {
                    "name": field_name,
                    "annotation": field.annotation,
                    "default": field.default,
                    "help": field.description or "",
                    **meta,
                }
            )
        out[name] = {
            "frequency": cls.frequency,
            "summary": cls.summary,
            "stochastic": cls.stochastic,
            "fields": fields,
        }
    return out


# --- run view -------------------------------------------------------------------------------
def show_run(run_id: str, key: str) -> None:
    """Charts and tables of one stored run."""
    payload, equity = load_run(str(store.root), run_id)
    period = payload["period"]
    st.subheader(f"Run {run_id}")
    st.caption(
        f"data {payload['data'].get('spec')} · period {period['start']} .. {period['end']} "
        f"({period['years']:.1f} years) · costs {payload['config'].get('cost_bps', 0):g} bps · "
        f"seeds {len(payload['config'].get('seeds', []))}"
    )
    st.dataframe(pl.DataFrame(views.metrics_rows(payload)), hide_index=True, width="stretch")
    st.plotly_chart(views.equity_figure(equity), width="stretch", key=f"{key}-equity")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(views.yearly_figure(payload), width="stretch", key=f"{key}-yearly")
    with right:
        distribution = views.seed_distribution_figure(payload)
        if distribution is not None:
            st.plotly_chart(distribution, width="stretch", key=f"{key}-seeds")
        else:
            st.plotly_chart(views.drawdown_figure(equity), width="stretch", key=f"{key}-dd-alt")
    evidence = views.evidence_text(payload)
    if evidence:
        left, right = st.columns(2)
        with left:
            st.markdown("**Is it a fluke?**")
            st.code("\n".join(evidence[1:]), language=None, wrap_lines=True)
        ranks = views.rank_figure(payload)
        if ranks is not None:
            with right:
                st.plotly_chart(ranks, width="stretch", key=f"{key}-ranks")
    if distribution is not None:
        st.plotly_chart(views.drawdown_figure(equity), width="stretch", key=f"{key}-dd")
    entries = views.entries(payload)
    yearly = [
        {"year": y, **{e["name"]: views.percent(e["yearly"].get(y)) for e in entries}}
        for y in payload["benchmark"]["yearly"]
    ]
    with st.expander("Yield per calendar year (table, %)", expanded=False):
        st.dataframe(pl.DataFrame(yearly), hide_index=True, width="stretch")
    bench = payload["benchmark"]["cagr"]
    for entry in payload["strategies"]:
        if entry.get("seeds"):
            with st.expander(f"{entry['name']}: every seed", expanded=False):
                st.dataframe(pl.DataFrame(views.seed_rows(entry, bench)), hide_index=True, width="stretch")
        if entry.get("picks"):
            share = entry.get("picks_beat_median", {}).get("share")
            st.markdown(
                f"**{entry['name']}: picks per year held** — "
                f"{'' if share is None else f'{share * 100:.1f}% of picks beat the universe median stock'}"
            )
            st.dataframe(pl.DataFrame(views.picks_rows(entry)), hide_index=True, width="stretch")
    for note in payload.get("notes", []):
        st.caption(f"note: {note}")
    a, b = st.columns(2)
    a.download_button(
        "equity (CSV)",
        equity.write_csv(),
        file_name=f"{run_id}-equity.csv",
        mime="text/csv",
        key=f"{key}-dl-eq",
    )
    b.download_button(
        "metrics (CSV)",
        pl.DataFrame(views.metrics_rows(payload)).write_csv(),
        file_name=f"{run_id}-metrics.csv",
        mime="text/csv",
        key=f"{key}-dl-m",
    )


# --- run panel --------------------------------------------------------------------------------
def param_widget(strategy: str, field: dict[str, Any]) -> Any:
    """A widget for one parameter, from its type, default and bounds."""
    key = f"param-{strategy}-{field['name']}"
    label, default, annotation = field["name"], field["default"], field["annotation"]
    options = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
    if options:
        return st.selectbox(label, options, index=options.index(default), key=key, help=field["help"])
    if annotation is bool:
        return st.checkbox(label, value=bool(default), key=key, help=field["help"])
    if annotation is int:
        low = field.get("ge", field.get("gt"))
        return st.number_input(
            label,
            value=int(default),
            step=1,
            min_value=None if low is None else int(low),
            max_value=field.get("le"),
            key=key,
            help=field["help"],
        )
    if annotation is float:
        return st.number_input(label, value=float(default), format="%g", key=key, help=field["help"])
    return st.text_input(label, value="" if default is None else str(default), key=key, help=field["help"])


def run_panel() -> None:
    from strategies.registry import PLUGINS_ENV

    catalog = strategy_catalog(os.environ.get(PLUGINS_ENV, ""))
    c1, c2, c3 = st.columns(3)
    source = c1.selectbox("data", ["bundled sample", "file (CSV/Parquet)", "Yahoo cache"], key="data-source")
    frequency = c2.radio("signals", ["daily", "annual"], horizontal=True, key="frequency")
    seeds = c3.number_input("seeds", min_value=1, max_value=100, value=10, step=1, key="seeds")
    path = (
        st.text_input("file path (csv:/parquet: layout)", key="data-path")
        if source.startswith("file")
        else ""
    )
    tickers: list[str] = []
    if source == "Yahoo cache":
        from feeds import yahoo

        tickers = st.multiselect("tickers", yahoo.cached_tickers(settings.cache_dir), key="yahoo-tickers")
    names = [n for n, c in catalog.items() if c["frequency"] == frequency and n != "buy-and-hold"]
    default = ["ma-trend"] if frequency == "daily" else ["momentum-annual"]
    chosen = st.multiselect("strategies", names, default=[d for d in default if d in names], key="strategies")
    params: dict[str, dict[str, Any]] = {}
    for name in chosen:
        with st.expander(f"{name} — {catalog[name]['summary']}", expanded=False):
            values = {f["name"]: (f, param_widget(name, f)) for f in catalog[name]["fields"]}
            params[name] = {k: v for k, (f, v) in values.items() if v != f["default"] and v != ""}
    d1, d2, d3, d4 = st.columns(4)
    limit = d1.checkbox("limit dates", key="limit-dates")
    start = d2.date_input("start", value=dt.date(2010, 1, 1), key="start") if limit else None
    end = d3.date_input("end", value=dt.date(2022, 12, 28), key="end") if limit else None
    cost = d4.number_input("costs [bps]", min_value=0.0, value=5.0, step=1.0, key="cost")
    headlines = st.text_input("headlines (optional): csv:PATH, rss:URL, ...", key="headlines")
    h1, h2, h3 = st.columns(3)  # only for files whose columns are not recognized
    headline_column = h1.text_input("headline column [auto]", key="headline-column")
    time_column = h2.text_input("time column [auto]", key="time-column")
    timezone = h3.text_input("zone of times without one [America/New_York]", key="timezone")
    submitted = st.button("Run", type="primary", key="run")
    if submitted:
        if not chosen:
            st.error("choose at least one strategy")
            return
        args = ["--frequency", frequency, "--seeds", str(int(seeds)), "--cost-bps", f"{cost:g}"]
        if source.startswith("file"):
            if not path.strip():
                st.error("give a file path")
                return
            spec = path.strip()
            args += [
                "--data",
                spec if ":" in spec[:8] else f"{Path(spec).suffix.lstrip('.') or 'csv'}:{spec}",
            ]
        elif source == "Yahoo cache":
            if not tickers:
                st.error("choose at least one cached ticker")
                return
            args += ["--data", "yahoo:" + ",".join(tickers)]
        for name in chosen:
            args += ["--strategy", name]
            args += [a for k, v in params[name].items() for a in ("--param", f"{name}.{k}={v}")]
        if start:
            args += ["--start", start.isoformat()]
        if end:
            args += ["--end", end.isoformat()]
        if headlines.strip():
            args += ["--headlines", headlines.strip()]
            for flag, value in (
                ("--headline-column", headline_column),
                ("--time-column", time_column),
                ("--timezone", timezone),
            ):
                args += [flag, value.strip()] if value.strip() else []
        st.session_state["job"] = Job(args, runs_dir=settings.runs_dir, cache_dir=settings.cache_dir)
        st.session_state.pop("last_run", None)
        st.session_state.pop("job_message", None)
    follow_job()
    message = st.session_state.get("job_message")
    if message:
        getattr(st, message[0])(message[1])
    if st.session_state.get("last_run"):
        show_run(st.session_state["last_run"], key="last")


def follow_job() -> None:
    """Poll the worker run every second, but only while there is one (no idle reruns)."""
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
        label = f"{status.stage}: {status.done}/{status.total} days" if status.stage else "starting…"
        st.progress(status.fraction, text=label)
        if st.button("cancel", key="cancel"):
            job.cancel()
            st.session_state.pop("job")
            st.session_state["job_message"] = ("warning", "cancelled")
            st.rerun()
        return
    st.session_state.pop("job")
    if status.state == "done":
        st.session_state["job_message"] = ("success", f"run {status.run_id} stored in {settings.runs_dir}")
        st.session_state["last_run"] = status.run_id
    else:
        st.session_state["job_message"] = ("error", f"run failed: {status.error}")
    st.rerun()  # the whole page: show the new run, list it in the browser


# --- runs browser and comparison -------------------------------------------------------------------
def runs_browser() -> None:
    infos = store.list()
    st.caption(f"runs directory: {settings.runs_dir}")
    if not infos:
        st.info("No runs yet: use the Run tab, or `backtest run` in a terminal.")
        return
    st.dataframe(
        pl.DataFrame(
            {
                "run": [i.run_id for i in infos],
                "status": [i.status for i in infos],
                "strategies": [", ".join(i.manifest.get("strategies", [])) for i in infos],
                "period": [i.manifest.get("headline", {}).get("period", "") for i in infos],
                "CAGR (1st)": [i.manifest.get("headline", {}).get("cagr", "") for i in infos],
                "buy-and-hold": [i.manifest.get("headline", {}).get("benchmark_cagr", "") for i in infos],
                "problem": [i.error for i in infos],
            }
        ),
        hide_index=True,
        width="stretch",
    )
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
    complete = [i.run_id for i in store.list() if i.status == COMPLETE]
    chosen = st.multiselect("runs to compare", complete, default=complete[:2], key="compare-runs")
    if not chosen:
        st.info("choose runs to compare")
        return
    loaded = [(run_id, *load_run(str(store.root), run_id)) for run_id in chosen]
    st.plotly_chart(
        views.compare_equity_figure([(r, eq) for r, _, eq in loaded]),
        width="stretch",
        key="cmp-equity",
    )
    rows = [{"run": r, **row} for r, payload, _ in loaded for row in views.metrics_rows(payload)]
    st.dataframe(pl.DataFrame(rows), hide_index=True, width="stretch")
    st.dataframe(
        pl.DataFrame(views.compare_yearly_rows([p for _, p, _ in loaded])),
        hide_index=True,
        width="stretch",
    )


def sweeps_view() -> None:
    """The sweep report of ``backtest sweep-report``: a table per cell and the chart."""
    from engine.sweep_report import sweep_figure, sweep_rows

    names = sorted({i.manifest["sweep"] for i in store.list() if i.manifest.get("sweep")})
    if not names:
        st.info("No sweeps yet: `backtest sweep SPEC.toml` (see docs/scaling.md).")
        return
    chosen = st.selectbox("sweep", names, key="sweep")
    rows = sweep_rows(store, chosen)
    table = [
        {
            "cell": r["cell"],
            "status": r["status"],
            "CAGR mean %": views.percent(r.get("cagr_mean")),
            "± std %": views.percent(r.get("cagr_std")),
            "seeds beating B&H %": views.percent(r.get("share_beating"), 0),
            "Sharpe": None if r.get("sharpe_mean") is None else round(r["sharpe_mean"], 2),
            "B&H %": views.percent(r.get("benchmark_cagr")),
            "PSR best": None if r.get("psr") is None else round(r["psr"], 2),
            "DSR best": None if r.get("dsr") is None else round(r["dsr"], 2),
            "run": r["run"],
            "error": r.get("error", ""),
        }
        for r in rows
    ]
    st.dataframe(pl.DataFrame(table), hide_index=True, width="stretch")
    trials = next((r["trials"] for r in rows if "trials" in r), 0)
    st.caption(f"DSR deflated for {trials} trials (every seed of every cell); < 0.95: within chance")
    st.plotly_chart(sweep_figure(rows, chosen), width="stretch", key="sweep-chart")


st.title("Stock-RNN: learned strategies vs buy-and-hold")
run_tab, runs_tab, compare_tab, sweeps_tab = st.tabs(["Run", "Runs", "Compare", "Sweeps"])
with run_tab:
    run_panel()
with runs_tab:
    runs_browser()
with compare_tab:
    compare_runs()
with sweeps_tab:
    sweeps_view()
