"""The summary of a sweep as a chart: one bar per cell, deflated for the trials of the whole sweep.

The rows come from :func:`engine.rows.sweep_rows`, read from
the store only (the runs tagged with the sweep id). Per cell: mean CAGR over seeds
± std, share of seeds beating buy-and-hold, mean Sharpe, and for the cell's best
seed the PSR and DSR of its daily returns in excess of buy-and-hold, where the
DSR's trials are every seed of every cell of the sweep (see ``engine.api (evidence)``):
with many cells, the best cell needs a much larger excess Sharpe before it stops
looking like luck.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from engine.api import COMPLETE, store_writes
from engine.rows import SweepRow

__all__ = ["sweep_figure", "write_figure"]


def sweep_figure(rows: Sequence[SweepRow], sweep_id: str) -> go.Figure:
    """Mean CAGR ± std over seeds per cell, buy-and-hold as reference lines."""
    done = [r for r in rows if r.status == COMPLETE]
    fig = go.Figure(
        go.Bar(
            x=[r.cell for r in done],
            y=[r.cagr_mean * 100 for r in done],
            error_y={"type": "data", "array": [r.cagr_std * 100 for r in done]},
            marker_color=["#2ca02c" if r.cagr_mean > r.benchmark_cagr else "#d62728" for r in done],
            text=["DSR —" if r.dsr is None else f"DSR {r.dsr:.2f}" for r in done],
            name="mean CAGR ± std over seeds",
        )
    )
    for bench in sorted({round(r.benchmark_cagr * 100, 4) for r in done}):
        fig.add_hline(y=bench, line_dash="dash", annotation_text=f"buy-and-hold {bench:.2f}%")
    fig.update_yaxes(title="CAGR %")
    fig.update_layout(title=f"Sweep {sweep_id}: mean CAGR over seeds per cell", height=480)
    return fig


def write_figure(rows: Sequence[SweepRow], sweep_id: str, path: Path, *, root: Path | None = None) -> Path:
    """The figure as a self-contained HTML file (plotly.js inlined: opens offline).

    ``root``: the runs directory when ``path`` is in it (``<runs>/sweeps/``): written through
    the store's one writer, atomically, refusing a symbolic link at any level below ``root``
    (a planted link never makes it write outside the store); a write the disk refuses is one line.
    """
    store_writes.make_dirs(path.parent, root)
    page = sweep_figure(rows, sweep_id).to_html(include_plotlyjs=True, full_html=True)
    return store_writes.write_text(path, page, root=root)
