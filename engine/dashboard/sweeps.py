"""The Sweeps tab: the report of ``backtest sweep-report`` for one sweep."""

from __future__ import annotations

import streamlit as st

from engine.dashboard import reads
from engine.dashboard.chart_view import show_chart
from engine.dashboard.run_view import show_table
from engine.rows import percent, rounded


def sweeps_view() -> None:
    """The sweep report of ``backtest sweep-report``: a table per cell and the chart."""
    from engine.dashboard.sweep_chart import sweep_figure

    root = reads.runs_root()
    names = sorted({i.manifest["sweep"] for i in reads.runs_now() if i.manifest.get("sweep")})
    if not names:
        st.info("No sweeps yet: `backtest sweep SPEC.toml` (see docs/scaling.md).")
        return
    chosen = st.selectbox("sweep", names, key="sweep")
    rows = reads.cached_sweep_rows(str(root), reads.stamp(root), chosen)
    table = [
        {
            "cell": r.cell,
            "status": r.status,
            "CAGR mean %": percent(r.cagr_mean),
            "± std %": percent(r.cagr_std),
            "seeds beating benchmark %": percent(r.share_beating, 0),
            "Sharpe": rounded(r.sharpe_mean),
            "benchmark %": percent(r.benchmark_cagr),
            "PSR best": rounded(r.psr),
            "DSR best": rounded(r.dsr),
            "run": r.run,
            "error": r.error or "",
        }
        for r in rows
    ]
    show_table(table)
    trials = next((r.trials for r in rows if r.trials is not None), 0)
    st.caption(f"DSR deflated for {trials} trials (every seed of every cell); < 0.95: within chance")
    show_chart(sweep_figure(rows, chosen), key="sweep-chart")
