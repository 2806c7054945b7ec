"""The summary of a sweep: one row per cell, deflated for the number of trials of the whole sweep.

Read from the store only (the runs tagged with the sweep id). Per cell: mean CAGR
over seeds ± std, share of seeds beating buy-and-hold, mean Sharpe, and for the
cell's best seed the PSR and DSR of its daily returns in excess of buy-and-hold,
where the DSR's trials are every seed of every cell of the sweep (see
``engine.evidence``): with many cells, the best cell needs a much larger excess
Sharpe before it stops looking like luck.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl

from engine.evidence import daily_returns, deflated_sharpe, probabilistic_sharpe, sharpe_moments
from engine.store import BROKEN, COMPLETE, FAILED, RunStore
from feeds.errors import InputError


def sweep_rows(store: RunStore, sweep_id: str) -> list[dict[str, Any]]:
    """One dict per cell of ``sweep_id`` (complete and failed runs; the newest run of a cell wins)."""
    infos = [i for i in store.list() if i.manifest.get("sweep") == sweep_id]
    if not infos:
        raise InputError(f"no runs of sweep {sweep_id!r} in {store.root}")
    latest: dict[str, Any] = {}
    for info in infos:  # newest first
        cell = info.manifest.get("cell", info.run_id)
        if cell not in latest or (latest[cell].status != COMPLETE and info.status == COMPLETE):
            latest[cell] = info
    rows, excess_series = [], []
    for info in latest.values():
        row: dict[str, Any] = {
            "cell": info.manifest.get("cell_label", ""),
            "run": info.run_id,
            "status": info.status,
        }
        if info.status != COMPLETE:
            row["error"] = info.error
            rows.append(row)
            continue
        try:
            _, payload = store.load_metrics(info.run_id)  # the full check of the run's files
            equity = store.load_equity(info.run_id)
        except InputError as exc:
            row.update(status=BROKEN, error=str(exc))
            rows.append(row)
            continue
        entry = payload["strategies"][0] if payload["strategies"] else None
        if entry is None:
            row.update(status=FAILED, error=info.error)
            rows.append(row)
            continue
        agg = entry["aggregate"]
        row.update(
            strategy=entry["name"],
            cagr_mean=agg["cagr_mean"],
            cagr_std=agg["cagr_std"],
            share_beating=agg["share_beating_benchmark"],
            sharpe_mean=agg["sharpe_mean"],
            benchmark_cagr=payload["benchmark"]["cagr"],
            seeds=agg["n_seeds"] or 1,
            period=f"{payload['period']['start']}..{payload['period']['end']}",
        )
        bench = equity.filter(pl.col("role") == "benchmark")
        bench = bench.filter(pl.col("strategy") == bench["strategy"][0])["equity"].to_numpy()
        mine = equity.filter((pl.col("role") == "strategy") & (pl.col("member") != "ensemble"))
        members = mine["member"].unique(maintain_order=True).to_list()
        curves = np.column_stack([mine.filter(pl.col("member") == m)["equity"].to_numpy() for m in members])
        excess = daily_returns(curves) - daily_returns(bench[:, None])
        row["_excess"] = excess
        excess_series.append(excess)
        rows.append(row)
    sharpes = [sharpe_moments(e[:, j])[0] for e in excess_series for j in range(e.shape[1])]
    trials = len(sharpes)
    variance = float(np.var(sharpes, ddof=1)) if trials >= 2 else 0.0
    for row in rows:
        excess = row.pop("_excess", None)
        if excess is None:
            continue
        best = int(np.argmax(excess.mean(axis=0) / np.maximum(excess.std(axis=0, ddof=1), 1e-300)))
        sr, skew, kurt = sharpe_moments(excess[:, best])
        n = len(excess)
        row.update(
            best_excess_sharpe_annual=sr * math.sqrt(252),
            psr=probabilistic_sharpe(sr, n, skew, kurt),
            dsr=deflated_sharpe(sr, n, skew, kurt, trials, variance),
            trials=trials,
        )
    rows.sort(key=lambda r: (r["status"] != COMPLETE, -(r.get("cagr_mean") or -1e9)))
    return rows


def sweep_figure(rows: list[dict[str, Any]], sweep_id: str) -> go.Figure:
    """Mean CAGR ± std over seeds per cell, buy-and-hold as reference lines."""
    done = [r for r in rows if r["status"] == COMPLETE]
    fig = go.Figure(
        go.Bar(
            x=[r["cell"] for r in done],
            y=[r["cagr_mean"] * 100 for r in done],
            error_y={"type": "data", "array": [r["cagr_std"] * 100 for r in done]},
            marker_color=["#2ca02c" if r["cagr_mean"] > r["benchmark_cagr"] else "#d62728" for r in done],
            text=["DSR —" if r["dsr"] is None else f"DSR {r['dsr']:.2f}" for r in done],
            name="mean CAGR ± std over seeds",
        )
    )
    for bench in sorted({round(r["benchmark_cagr"] * 100, 4) for r in done}):
        fig.add_hline(y=bench, line_dash="dash", annotation_text=f"buy-and-hold {bench:.2f}%")
    fig.update_yaxes(title="CAGR %")
    fig.update_layout(title=f"Sweep {sweep_id}: mean CAGR over seeds per cell", height=480)
    return fig


def write_figure(rows: list[dict[str, Any]], sweep_id: str, path: Path) -> Path:
    """The figure as a self-contained HTML file (plotly.js inlined: opens offline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    sweep_figure(rows, sweep_id).write_html(tmp, include_plotlyjs=True)
    tmp.replace(path)
    return path
