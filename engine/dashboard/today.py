"""The Today tab: each tracked run's signal for the next session, its recent equity and the daily log.

Read from what ``backtest daily`` writes (``<runs>/tracked.json``, ``signals/<name>/``, ``daily.log``);
nothing here changes the store.
"""

from __future__ import annotations

from collections import deque

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from engine.api import daily, signals, tracking
from engine.dashboard.chart_view import show_chart
from engine.dashboard.pandas_import import import_pandas_once
from engine.dashboard.reads import runs_root, store
from engine.dashboard.run_view import show_lines
from feeds.errors import InputError

RECENT_SESSIONS = 120  # the recent equity shown beside a signal: about half a year of sessions
LOG_LINES = 20


def today_view() -> None:
    """Draw the Today tab."""
    root = runs_root()
    try:
        tracked = tracking.load(root)
    except InputError as exc:
        st.error(str(exc))
        return
    if not tracked:
        st.info("No tracked runs yet: `backtest track RUN --name NAME`, then `backtest daily` each evening.")
    for entry in tracked.values():
        with st.container(border=True):
            _tracked_run(entry)
    log = root / daily.LOG
    if log.is_file():
        st.subheader("daily.log")
        with log.open(encoding="utf-8", errors="replace") as handle:
            lines = deque(handle, maxlen=LOG_LINES)
        show_lines("".join(lines).rstrip("\n") or "(empty)")  # not st.code: see show_lines


def _tracked_run(entry: tracking.Tracked) -> None:
    st.subheader(entry.name)
    try:
        payload = signals.read(runs_root(), entry.name)
    except InputError as exc:
        st.caption(f"run {entry.run_id}, data {entry.data}: {exc}")
        return
    st.markdown(
        f"Decided at the close of **{payload['decided_at_close']}**, to hold from "
        f"**{payload['applies_to_session']}** (run `{payload['run_id']}`, its checkpoint produced it)"
    )
    rows = [
        {"strategy": strategy, "weights": member, "ticker": ticker, "weight": f"{weight * 100:.2f}%"}
        for strategy, per in payload["weights"].items()
        for member in ([m for m in ("ensemble", "seed_mean") if m in per] or list(per)[:1])
        for ticker, weight in per[member].items()
    ]
    import_pandas_once()
    st.dataframe(pl.DataFrame(rows), hide_index=True, width="content")
    try:
        equity = store().load_equity(entry.run_id)
    except InputError as exc:
        st.caption(str(exc))
        return
    figure = go.Figure()
    for strategy, part in equity.group_by("strategy", maintain_order=True):
        members = part["member"].unique().to_list()
        member = "ensemble" if "ensemble" in members else sorted(members)[0]
        curve = part.filter(pl.col("member") == member).sort("date").tail(RECENT_SESSIONS)
        benchmark = curve["role"][0] != "strategy"
        figure.add_trace(
            go.Scatter(
                x=curve["date"],
                y=curve["equity"],
                mode="lines",
                name=f"{strategy[0]}" + (" (ensemble)" if member == "ensemble" else ""),
                line={"dash": "dot" if benchmark else "solid", "width": 1.5 if benchmark else 2.5},
            )
        )
    figure.update_layout(
        title=f"Equity over the last {RECENT_SESSIONS} sessions (growth of 1)",
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h", "y": -0.2},
    )
    show_chart(figure, key=f"today-{entry.name}")
