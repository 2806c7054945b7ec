"""The Runs tab: the store's listing (running jobs included), removal of leftovers, one run opened."""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine.api import COMPLETE, INCOMPLETE, RUN_STORE_FAILED as FAILED, RunInfo
from engine.dashboard import reads
from engine.dashboard.jobs import CANCELLED, running_job_ids
from engine.dashboard.run_view import show_run, show_table


def status_of(info: RunInfo, running: dict[str, Any]) -> str:
    """The listing's status: a dashboard job's unfinished run reads "running (N%)", not "incomplete"."""
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
    """The Runs tab: every stored run listed, one opened; leftovers of cancelled and failed jobs removable."""
    root = reads.runs_root()
    infos = reads.runs_now()
    st.caption(f"runs directory: {root} · {len(infos)} runs")
    if not infos:
        st.info("No runs yet: use the Run tab, or `backtest run` in a terminal.")
        return
    running = running_job_ids(root)
    labels = reads.run_labels(str(root), reads.stamp(root))
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
    open_one(complete)


@st.fragment
def open_one(complete: list[str]) -> None:
    """The chosen run; a fragment: choosing another run (or one of its views) re-draws only this part,
    not the listing above (a 500-run table re-sent and re-drawn on every choice)."""
    chosen = st.selectbox("open run", complete, key="open-run")
    try:
        show_run(chosen, key="browse")
    except Exception as exc:  # a run folder damaged after listing: say so, keep the page
        st.error(f"run {chosen} cannot be read: {exc}")
