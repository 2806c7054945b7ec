"""How the dashboard's charts look: colours, layout, the log value axis.

Colours are mid-luminance, readable on light and dark backgrounds: Okabe-Ito for
strategies, neutral tones each with its own dash for benchmarks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

# Okabe-Ito (colour-blind safe), without black: every colour reads on white and on near-black
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
# benchmarks: neutral tones, each with its own dash, so two benchmarks never look alike
BENCH_STYLES = (("#8C8C8C", "dash"), ("#B07AA1", "dot"), ("#9C755F", "dashdot"), ("#76B7B2", "longdash"))
# Compare: the line style of each run's strategies (their colour is per run and strategy)
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
LAYOUT: dict[str, Any] = {
    "margin": {"t": 48, "b": 40, "l": 72, "r": 16},
    # legends under the plot: above it they collide with the title and subplot titles
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0},
    "hovermode": "x unified",
}


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Log-axis ticks covering [low, high] at 1-2-5 steps per decade, and their labels ("20", not "2").

    Long spans get one tick per decade, short ones finer steps, so there are 4 to 12 ticks.
    """
    low, high = max(low, 1e-9), max(high, low * 1.0001)
    decades = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    for steps in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)):
        ticks = [m * 10.0**k for k in decades for m in steps]
        inside = [t for t in ticks if low / 1.1 <= t <= high * 1.1]
        if len(inside) >= 4:
            break
    inside = inside[:: max(1, math.ceil(len(inside) / 12))]
    return inside, [f"{t:,.0f}" if t >= 1 and t == round(t) else f"{t:.4g}" for t in inside]


def value_axis(fig: go.Figure, values: list[np.ndarray], log: bool, title: str, **where: Any) -> None:
    """A linear or log value axis; a log one spanning half a decade or more gets :func:`log_ticks`."""
    if not log:
        fig.update_yaxes(type="linear", title=title, **where)
        return
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values]) if values else np.array([1.0])
    low, high = float(finite.min()), float(finite.max())
    if high / low < 2.5:  # less than half a decade: plotly's own linear-looking ticks read better
        fig.update_yaxes(type="log", title=title, **where)
        return
    ticks, text = log_ticks(low, high)
    fig.update_yaxes(type="log", title=title, tickvals=ticks, ticktext=text, **where)


# pixels under the plot taken by the x axis: tick labels; with an axis title; with labels turned -60°
TICKS_PX, TITLED_PX, TURNED_PX = 30, 54, 56
LEGEND_ROW_PX = 24


def place_legend(fig: go.Figure, *, below: int = TICKS_PX, width: int = 1100) -> go.Figure:
    """The legend under the x axis's tick labels (and title), never over them; room made for it.

    A legend's ``y`` is a fraction of the plot's height, so a fixed fraction lands on the tick
    labels of short charts: the offset is computed in pixels from the figure's height and
    margins. ``below``: pixels the x axis takes under the plot; ``width``: about how wide the
    chart is drawn (px), to count the legend's rows. Tick labels never cut at the edges (automargin).
    """
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    shown = fig.layout.showlegend if fig.layout.showlegend is not None else len(names) > 1  # plotly's rule
    if not shown:
        return fig
    rows = max(1, math.ceil(sum(7 * len(n) + 50 for n in names) / width))
    top = fig.layout.margin.t if fig.layout.margin.t is not None else LAYOUT["margin"]["t"]
    bottom = below + rows * LEGEND_ROW_PX + 8
    plot = max(60, (fig.layout.height or 450) - top - bottom)
    fig.update_layout(margin={"b": bottom}, legend={"y": -below / plot, "yanchor": "top"})
    return fig
