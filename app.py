"""Stock-RNN dashboard (minimal until the dashboard issue): browse stored runs.

Start it with ``backtest dashboard`` (or ``streamlit run app.py``).
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from engine.settings import Settings
from engine.store import COMPLETE, RunStore

st.set_page_config(page_title="Stock-RNN backtests", layout="wide")
st.title("Stock-RNN: strategies vs buy-and-hold")

settings = Settings.resolve()
store = RunStore(settings.runs_dir)
infos = store.list()
st.caption(f"runs directory: {settings.runs_dir}")
if not infos:
    st.info("No runs yet. Run `backtest run` in a terminal, then reload.")
    st.stop()

st.dataframe(
    pl.DataFrame(
        {
            "run": [i.run_id for i in infos],
            "status": [i.status for i in infos],
            "strategies": [", ".join(i.manifest.get("strategies", [])) for i in infos],
            "headline": [i.manifest.get("headline", {}).get("cagr", "") for i in infos],
            "buy-and-hold": [i.manifest.get("headline", {}).get("benchmark_cagr", "") for i in infos],
            "note": [i.error for i in infos],
        }
    ),
    use_container_width=True,
)
complete = [i.run_id for i in infos if i.status == COMPLETE]
if complete:
    chosen = st.selectbox("open run", complete)
    _, payload = store.load_metrics(chosen)
    equity = store.load_equity(chosen)
    fig = go.Figure()
    for (name, member), part in equity.group_by(["strategy", "member"], maintain_order=True):
        fig.add_trace(
            go.Scatter(
                x=part["date"].to_list(),
                y=part["equity"].to_list(),
                name=f"{name} {member}" if member != "main" else name,
            )
        )
    fig.update_yaxes(type="log", title="equity (start = 1)")
    st.plotly_chart(fig, use_container_width=True)
    rows = [*payload["strategies"], *payload["benchmarks"]]
    st.dataframe(
        pl.DataFrame(
            {
                "strategy": [r["name"] for r in rows],
                "CAGR %": [None if r["cagr"] is None else round(r["cagr"] * 100, 2) for r in rows],
                "Sharpe": [r["sharpe"] for r in rows],
                "max DD %": [
                    None if r["max_drawdown"] is None else round(r["max_drawdown"] * 100, 2) for r in rows
                ],
            }
        )
    )
