"""The Run tab: the run form, checked as a whole before Run is enabled, and the job it starts.

Widgets collect raw values; :func:`engine.dashboard.form.check_run_form` judges all
of them at once and each reason is written into the slot under its widget (a
rejected value is shown, never replaced). Run starts a worker job
(engine.dashboard.jobs) with the checked :class:`RunConfig` itself.
"""

from __future__ import annotations

import datetime as dt
import os
import typing
from pathlib import Path
from typing import Any

import streamlit as st

from engine.dashboard import reads
from engine.dashboard.form import (
    CASH_RATE,
    COST,
    DATA,
    DIVIDENDS,
    DRAWN,
    END,
    HEADLINES,
    SEEDS,
    START,
    STRATEGIES,
    TIMEZONE,
    UNIVERSE,
    FormCheck,
    check_run_form,
    data_spec,
    form_settings,
    param_key,
    setting,
)
from engine.dashboard.form_state import index_of, remembered
from engine.dashboard.jobs import Job, plain_error
from engine.dashboard.run_view import show_run

SOURCES = {"bundled sample": "sample", "file (CSV/Parquet)": "file", "Yahoo cache": "yahoo"}


def param_widget(strategy: str, field: dict[str, Any]) -> Any:
    """A widget for one parameter, from its type and default; no clamping: the form check judges."""
    key = param_key(strategy, field["name"])
    label, default, annotation_ = field["name"], field["default"], field["annotation"]
    options = typing.get_args(annotation_) if typing.get_origin(annotation_) is typing.Literal else ()
    if options:
        return st.selectbox(
            label, options, index=index_of(key, options, default), key=key, help=field["help"]
        )
    if annotation_ is bool:
        return st.checkbox(label, value=bool(remembered(key, default)), key=key, help=field["help"])
    if annotation_ is int:
        return st.number_input(
            label, value=remembered(key, int(default)), step=1, key=key, help=field["help"]
        )
    if annotation_ is float:
        value = remembered(key, float(default))
        return st.number_input(label, value=value, format="%g", key=key, help=field["help"])
    text = remembered(key, "" if default is None else str(default))
    return st.text_input(label, value=text, key=key, help=field["help"])


def setting_widget(setting: Any, column: Any) -> Any:
    """A widget for one RunConfig field from its type, default, bounds and help (no clamping)."""
    bounds = setting.bounds_text()
    help_text = setting.help + (f" ({bounds})" if bounds else "")
    key, label, default = setting.widget, setting.label, setting.default
    if setting.choices:
        options = list(setting.choices)
        return column.selectbox(
            label, options, index=index_of(key, options, default), key=key, help=help_text
        )
    if setting.kind is bool:
        return column.checkbox(label, value=bool(remembered(key, default)), key=key, help=help_text)
    if setting.kind in (int, float):
        cast = setting.kind
        fmt = "%g" if cast is float else "%d"
        value = remembered(key, cast(default) if default is not None else None, cast)
        return column.number_input(
            label, value=value, step=1 if cast is int else None, format=fmt, key=key, help=help_text
        )
    text = remembered(key, "" if default is None else str(default))
    return column.text_input(label, value=text, key=key, help=help_text)


def _more_settings(slots: dict[str, Any]) -> dict[str, Any]:
    """The fields the page draws no widget of its own for (slippage, lag, leverage, device, ...)."""
    more = [s for s in form_settings() if s.name not in DRAWN]
    values: dict[str, Any] = {}
    if not more:
        return values
    with st.expander("more settings", expanded=False):
        columns = st.columns(3)
        for i, setting in enumerate(more):
            column = columns[i % 3]
            values[setting.name] = setting_widget(setting, column)
            slots[setting.widget] = column.empty()
    return values


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


def _data_and_strategies(catalog: dict[str, dict[str, Any]], slots: dict[str, Any]) -> dict[str, Any]:
    """Data, signal frequency, strategies, seeds and parameters: the form's first rows."""
    c1, c2, c3 = st.columns(3)
    source_index = index_of("data-source", SOURCES, "bundled sample")
    source = SOURCES[c1.selectbox("data", list(SOURCES), index=source_index, key="data-source")]
    frequencies = ["daily", "annual"]
    frequency = c2.radio(
        "signals",
        frequencies,
        index=index_of("frequency", frequencies, "daily"),
        horizontal=True,
        key="frequency",
    )
    path, tickers = "", []
    if source == "file":
        label = "file path (.csv / .parquet, or csv:PATH / parquet:PATH)"
        path = c1.text_input(label, value=remembered("data-path", ""), key="data-path")
    elif source == "yahoo":
        from feeds import yahoo

        cached = yahoo.cached_tickers(reads.settings().cache_dir)
        kept = [t for t in remembered("yahoo-tickers", []) if t in cached]
        tickers = c1.multiselect("tickers", cached, default=kept, key="yahoo-tickers")
    slots[DATA] = c1.empty()
    names = [n for n, c in catalog.items() if c["frequency"] == frequency and n != "buy-and-hold"]
    default = {"daily": ["ma-trend"], "annual": ["momentum-annual"]}[frequency]
    # one selection per signal frequency: switching to annual offers annual strategies, and back
    key = f"strategies-{frequency}"
    chosen = st.multiselect(
        f"{frequency} strategies",
        names,
        default=[d for d in remembered(key, default) if d in names],
        key=key,
    )
    slots[STRATEGIES] = st.empty()
    stochastic = any(catalog[n]["stochastic"] for n in chosen)
    if stochastic:
        seeds = c3.number_input(
            "seeds", value=remembered("seeds", 10), step=1, key="seeds", help="independent seeds 0..N-1"
        )
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
    return {
        "source": (source, path, tickers),
        "frequency": frequency,
        "strategies": params,
        "params_models": {n: catalog[n]["params"] for n in chosen},
        "stochastic": stochastic,
        "seeds": int(seeds),
    }


def _read_data(source: str, path: str, tickers: list[str]) -> dict[str, Any]:
    """The data spec of the choice and its first and last day, or the reason it cannot be read."""
    spec, spec_error = data_spec(source, path, tickers)
    span = None
    if spec is not None:
        try:
            target = Path(spec.partition(":")[2]) if ":" in spec else Path()
            cache = str(reads.settings().cache_dir)
            span = reads.data_range(spec, cache, reads.stamp(target) if target.name else 0)
        except Exception as exc:  # any unreadable file is reported at the data field
            spec, spec_error = None, f"cannot read the data: {plain_error(str(exc))}"
    return {"data": spec, "data_error": spec_error, "data_range": span}


def _dates_and_costs(span: tuple[dt.date, dt.date] | None, slots: dict[str, Any]) -> dict[str, Any]:
    """The optional date limits (pickers span the data) and the costs."""
    d1, d2, d3, d4 = st.columns(4)
    limit = d1.checkbox("limit dates", value=remembered("limit-dates", False), key="limit-dates")
    if span:
        d1.caption(f"data: {span[0]} .. {span[1]}")
    wide = {"min_value": dt.date(1800, 1, 1), "max_value": dt.date(2100, 12, 31)}
    start = end = None
    if limit:
        first = remembered("start", span[0] if span else dt.date(2010, 1, 1))
        start = d2.date_input("start", value=first, key="start", **wide)
        slots[START] = d2.empty()
        last = remembered("end", span[1] if span else dt.date.today())
        end = d3.date_input("end", value=last, key="end", **wide)
        slots[END] = d3.empty()
    costs = setting("cost_bps")
    cost = d4.number_input(
        costs.label,
        value=remembered("cost", costs.default),
        step=1.0,
        key="cost",
        format="%g",
        help=costs.help,
    )
    slots[COST] = d4.empty()
    return {"start": start, "end": end, "cost_bps": float(cost)}


def _headlines_and_income(frequency: str, slots: dict[str, Any]) -> dict[str, Any]:
    """Headlines (with their column and zone overrides), dividends, cash rate and the universe."""
    headlines = st.text_input(
        "headlines (optional): csv:PATH, rss:URL, ...", value=remembered("headlines", ""), key="headlines"
    )
    slots[HEADLINES] = st.empty()
    h1, h2, h3 = st.columns(3)  # only for files whose columns are not recognized
    headline_column = h1.text_input(
        "headline column [auto]", value=remembered("headline-column", ""), key="headline-column"
    )
    time_column = h2.text_input("time column [auto]", value=remembered("time-column", ""), key="time-column")
    timezone = h3.text_input(
        "zone of times without one [America/New_York]", value=remembered("timezone", ""), key="timezone"
    )
    slots[TIMEZONE] = h3.empty()
    b1, b2, b3 = st.columns(3)
    dividends = b1.text_input(
        "dividends",
        value=remembered("dividends", "reinvest"),
        key="dividends",
        help="reinvest | exclude | csv:PATH (date,dividend)",
    )
    slots[DIVIDENDS] = b1.empty()
    cash_rate = b2.text_input(
        "cash rate (annual fraction)",
        value=remembered("cash-rate", "0"),
        key="cash-rate",
        help="0.03 = 3% a year, or csv:PATH",
    )
    slots[CASH_RATE] = b2.empty()
    universe = ""
    if frequency == "annual":
        universe = b3.text_input(
            "point-in-time universe (optional)",
            value=remembered("universe", ""),
            key="universe",
            help="sp500 | csv:PATH (ticker,start,end)",
        )
        slots[UNIVERSE] = b3.empty()
    return {
        "headlines": headlines,
        "headline_column": headline_column,
        "time_column": time_column,
        "timezone": timezone,
        "dividends": dividends,
        "cash_rate": cash_rate,
        "universe": universe,
    }


def _run_button(check: FormCheck) -> None:
    """Run (disabled while a field is rejected or a job runs); a click starts the worker job."""
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
        settings = reads.settings()
        st.session_state["job"] = Job.start(
            check.config, runs_dir=settings.runs_dir, cache_dir=settings.cache_dir
        )
        st.session_state.pop("job_message", None)
        st.rerun()


def run_panel() -> None:
    """The Run tab: the form, Run, the outcome of the last job and the run it stored."""
    from strategies.registry import PLUGINS_ENV

    catalog = reads.strategy_catalog(os.environ.get(PLUGINS_ENV, ""))
    slots: dict[str, Any] = {}
    chosen = _data_and_strategies(catalog, slots)
    data = _read_data(*chosen.pop("source"))
    check = check_run_form(
        **data,
        **chosen,
        **_dates_and_costs(data["data_range"], slots),
        **_headlines_and_income(chosen["frequency"], slots),
        **_more_settings(slots),
    )
    for key in check.errors:
        reason(slots, key, check)
    _run_button(check)
    message = st.session_state.get("job_message")
    if message:
        getattr(st, message[0])(message[1])
    if st.session_state.get("last_run"):
        try:
            show_run(st.session_state["last_run"], key="last")
        except Exception as exc:  # removed from the store meanwhile
            st.warning(f"run {st.session_state['last_run']} cannot be shown: {exc}")
