"""Plotly figures of stored runs: equity, drawdown, yearly yields, seeds, seed ranks, runs compared.

Drawn from a run's typed result (:class:`engine.api.RunResult`, what
``backtest show`` prints) and the curves of :mod:`engine.dashboard.series`; the
headline figures are the stored ones, so the dashboard and the CLI agree by
construction. Tearsheet panels derived from the curves are in
:mod:`engine.dashboard.analysis`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from engine import rows
from engine.api import RunResult
from engine.dashboard.series import Loaded, compare_series, drawdown, series, thin
from engine.dashboard.style import BENCH_STYLES, COLORS, LAYOUT, TICKS_PX, TURNED_PX, place_legend, value_axis
from engine.rows import percent


def equity_figure(result: RunResult, equity: pl.DataFrame, *, log: bool = True) -> go.Figure:
    """Growth of 1: every seed faint, the ensemble (or the seeds' average) bold, benchmarks dashed."""
    fig = go.Figure()
    drawn = []
    items = series(result, equity)
    seeded = any(s.seeds for s in items)
    for s in items:
        for member, values in s.seeds.items():
            x, y = thin(s.dates, values)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"width": 0.7, "color": s.color},
                    opacity=0.25,
                    name=f"{s.name} seed {member}",
                    legendgroup=s.label,
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            drawn.append(values)
        x, y = thin(s.dates, s.values)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=s.label,
                legendgroup=s.label,
                line={
                    "width": 2.0 if s.role == "benchmark" else 2.4,
                    "color": s.color,
                    "dash": s.dash,
                },
                hovertemplate="%{y:.3f}",
            )
        )
        drawn.append(s.values)
    value_axis(fig, drawn, log, "growth of 1" + (" (log scale)" if log else ""))
    fig.update_layout(
        title="Equity, growth of 1" + (" (each seed faint, the bold line as labelled)" if seeded else ""),
        height=460,
        **LAYOUT,
    )
    return place_legend(fig)


def drawdown_figure(result: RunResult, equity: pl.DataFrame) -> go.Figure:
    """Drawdown from the running peak of each bold curve, in %; labels as in the equity chart."""
    fig = go.Figure()
    for s in series(result, equity):
        bench = s.role == "benchmark"
        x, y = thin(s.dates, drawdown(s.values) * 100)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=s.label,
                fill=None if bench else "tozeroy",
                line={"width": 1.2, "dash": s.dash, "color": s.color},
                hovertemplate="%{y:.1f}%",
            )
        )
    fig.update_yaxes(title="drawdown %", ticksuffix="%", automargin=True)
    fig.update_layout(title="Drawdown from the running peak", height=320, **LAYOUT)
    return place_legend(fig)


def yearly_columns(result: RunResult) -> list[tuple[str, dict[str, Any], str, str]]:
    """(label, {year: yield}, colour, shade) per column: each strategy, its ensemble, each benchmark."""
    out = []
    strategy_i = bench_i = 0
    for column in rows.yearly_columns(result, ensembles=True):
        if column.ensemble:  # the colour of its strategy, lighter
            out.append((column.label, column.values, out[-1][2], "light"))
            continue
        if column.role == "benchmark":
            color = BENCH_STYLES[bench_i % len(BENCH_STYLES)][0]
            bench_i += 1
        else:
            color = COLORS[strategy_i % len(COLORS)]
            strategy_i += 1
        out.append((column.label, column.values, color, ""))
    return out


def yearly_figure(result: RunResult) -> go.Figure:
    """Yield per calendar year; every year labelled, partial years marked * and hatched."""
    fig = go.Figure()
    years = rows.years(result)
    partial = bool(result.benchmark.partial_years)
    labels = [y.label for y in years]
    for label, yearly, color, pattern in yearly_columns(result):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[percent(yearly.get(y.year)) for y in years],
                name=label,
                marker={
                    "color": color,
                    "opacity": 0.55 if pattern == "light" else 1.0,
                    "pattern": {"shape": ["/" if y.partial else "" for y in years], "solidity": 0.35},
                },
                hovertemplate="%{x}: %{y:.2f}%",
            )
        )
    turned = len(labels) > 24  # more years than fit side by side across the page
    fig.update_xaxes(
        type="category", tickmode="array", tickvals=labels, ticktext=labels, tickangle=-60 if turned else 0
    )
    fig.update_yaxes(title="yield %", ticksuffix="%", automargin=True)
    title = "Yield per calendar year" + (" (* partial year, hatched)" if partial else "")
    fig.update_layout(title=title, barmode="group", height=400, **{**LAYOUT, "hovermode": "closest"})
    return place_legend(fig, below=TURNED_PX if turned else TICKS_PX)


def seed_distribution_figure(result: RunResult) -> go.Figure | None:
    """CAGR of every seed per seeded strategy, with each benchmark as a reference line; None without seeds."""
    chosen = [e for e in result.strategies if rows.seeded(e)]
    if not chosen:
        return None
    fig = go.Figure()
    for i, entry in enumerate(chosen):
        seeds = rows.seed_rows(entry, result.benchmark.cagr)
        fig.add_trace(
            go.Box(
                y=[percent(s.cagr) for s in seeds],
                name=rows.display_name(entry),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker_color=COLORS[i % len(COLORS)],
                text=[f"seed {s.seed}" for s in seeds],
                hovertemplate="%{text}: %{y:.2f}%<extra></extra>",
            )
        )
    for i, bench in enumerate(result.benchmarks):
        color, dash = BENCH_STYLES[i % len(BENCH_STYLES)]
        fig.add_hline(
            y=percent(bench.cagr),
            line_dash=dash,
            line_color=color,
            annotation_text=f"{rows.display_name(bench)} {percent(bench.cagr)}%",
            annotation_position="top left",
        )
    fig.update_yaxes(title="CAGR %", ticksuffix="%", automargin=True)
    fig.update_layout(
        title="CAGR of each seed (benchmarks as lines)", height=380, showlegend=False, margin=LAYOUT["margin"]
    )
    return fig


def rank_figure(result: RunResult) -> go.Figure | None:
    """Each seed's CAGR in the first half against the second (regression to the mean made visible)."""
    fig = go.Figure()
    shown = False
    for i, (name, ev) in enumerate(result.evidence.items()):
        ranks = ev.regression_to_mean
        if not ranks:
            continue
        entry = next(e for e in result.strategies if e.name == name)
        fig.add_trace(
            go.Scatter(
                x=[percent(f[0]) for f in ranks.cagr_by_fold],
                y=[percent(f[1]) for f in ranks.cagr_by_fold],
                mode="markers+text",
                text=[str(s.seed) for s in entry.seeds or []],
                textposition="top center",
                name=f"{name} (Spearman {ranks.rank_correlation:+.2f})",
                marker={"size": 10, "color": COLORS[i % len(COLORS)]},
            )
        )
        shown = True
    if not shown:
        return None
    fig.update_xaxes(title="CAGR % in the first half")
    fig.update_yaxes(title="CAGR % in the second half", automargin=True)
    fig.update_layout(title="Do seed ranks persist? (each point a seed)", height=380, margin=LAYOUT["margin"])
    return fig


def compare_equity_figure(loaded: Loaded, *, log: bool = True) -> go.Figure:
    """Runs overlaid from a common start (each curve = 1 there), benchmarks named and styled apart."""
    start, items = compare_series(loaded)
    fig = go.Figure()
    for s in items:
        x, y = thin(s.dates, s.values)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=s.label,
                line={
                    "color": s.color,
                    "dash": s.dash,
                    "width": 1.6 if s.role == "benchmark" else 2.2,
                },
            )
        )
    value_axis(fig, [s.values for s in items], log, "growth of 1" + (" (log scale)" if log else ""))
    fig.update_layout(title=f"Runs overlaid from their common start {start} (= 1)", height=480, **LAYOUT)
    return place_legend(fig)


def compare_drawdown_figure(loaded: Loaded) -> go.Figure:
    """Drawdowns of the curves of :func:`compare_series`, over the common period."""
    start, items = compare_series(loaded)
    fig = go.Figure()
    for s in items:
        x, y = thin(s.dates, drawdown(s.values) * 100)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=s.label,
                line={"color": s.color, "dash": s.dash, "width": 1.2},
            )
        )
    fig.update_yaxes(title="drawdown %", ticksuffix="%", automargin=True)
    fig.update_layout(title=f"Drawdown from the running peak, from {start}", height=340, **LAYOUT)
    return place_legend(fig)
