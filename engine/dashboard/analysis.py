"""Tearsheet panels derived from a run's stored curves and weights.

What the stored result does not hold (monthly returns, rolling Sharpe and
volatility, excess growth, the distribution of daily returns, drawdown periods,
exposure over time) is derived here from the curves of
:mod:`engine.dashboard.series` and ``weights.parquet`` (decision rows), with the
conventions of :mod:`engine.api (metrics)` (daily close-to-close returns, start = 1).
Turnover and fees paid are read as stored (:func:`cost_rows`), never re-derived.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from engine import rows
from engine.api import DAYS_PER_YEAR, RunResult
from engine.dashboard.series import Series, thin
from engine.dashboard.style import COLORS, LAYOUT, TITLED_PX, place_legend, value_axis
from engine.rows import percent, rounded

ROLLING_DAYS = 252  # "12 months" of trading days for rolling figures
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def monthly_returns(dates: np.ndarray, values: np.ndarray) -> dict[int, list[float | None]]:
    """Year -> 12 monthly returns (fractions; None where the period has no close in that month).

    Month-end value over the previous month-end value (the initial 1.0 before the
    first month), the convention of yearly yields in :mod:`engine.api (metrics)`.
    """
    months = dates.astype("datetime64[M]")
    ends = np.flatnonzero(np.r_[months[1:] != months[:-1], True])
    previous = np.r_[1.0, values[ends[:-1]]]
    out: dict[int, list[float | None]] = {}
    for i, r in zip(ends, values[ends] / previous - 1.0, strict=True):
        m = months[i].astype(object)
        out.setdefault(m.year, [None] * 12)[m.month - 1] = float(r)
    return out


def cell_text(value: float) -> str:
    """A percentage with one decimal; a loss that rounds to nothing reads 0.0, never -0.0."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def monthly_heatmap_figure(item: Series) -> go.Figure:
    """Monthly returns of one bold curve, a year per row (red losses, blue gains)."""
    table = monthly_returns(item.dates, item.values)
    years = sorted(table, reverse=True)
    z = [[percent(v, 1) for v in table[y]] for y in years]
    limit = max([abs(v) for row in z for v in row if v is not None] or [1.0])
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(MONTHS),
            y=[str(y) for y in years],
            colorscale="RdBu",
            zmid=0,
            zmin=-limit,
            zmax=limit,
            text=[["" if v is None else cell_text(v) for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate="%{y} %{x}: %{text}%<extra></extra>",  # the cell's one decimal, as drawn
            colorbar={"title": "%"},
        )
    )
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_layout(
        title=f"Monthly returns %: {item.label}",
        height=max(300, 22 * len(years) + 120),
        margin=LAYOUT["margin"],
    )
    return fig


def rolling_figure(items: list[Series], window: int = ROLLING_DAYS) -> go.Figure:
    """Rolling 12-month (252-day) Sharpe and volatility of each bold curve, risk-free rate 0."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=("Sharpe", "volatility %")
    )
    for s in items:
        r = np.diff(s.values) / s.values[:-1]
        if len(r) < window:
            continue
        frame = pl.DataFrame({"r": r}).with_columns(
            mean=pl.col("r").rolling_mean(window), std=pl.col("r").rolling_std(window, ddof=1)
        )
        ppy = (len(s.values) - 1) / ((s.dates[-1] - s.dates[0]).astype(np.int64) / DAYS_PER_YEAR)
        std = frame["std"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            sharpe = np.where(std > 0, frame["mean"].to_numpy() / std * math.sqrt(ppy), np.nan)
        line = {"color": s.color, "dash": s.dash, "width": 1.4}
        for row, values in ((1, sharpe), (2, std * math.sqrt(ppy) * 100)):
            x, y = thin(s.dates[1:], values)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=s.label,
                    legendgroup=s.label,
                    showlegend=row == 1,
                    line=line,
                ),
                row=row,
                col=1,
            )
    fig.update_yaxes(automargin=True)
    fig.update_layout(
        title=f"Rolling Sharpe and annualised volatility over {window} trading days (12 months)",
        height=480,
        **LAYOUT,
    )
    return place_legend(fig)


def excess_figure(items: list[Series], *, log: bool = True) -> go.Figure:
    """Each strategy's equity over each benchmark's (1 = level with it), on their common dates."""
    fig = go.Figure()
    benches = [s for s in items if s.role == "benchmark"]
    drawn = []
    for s in items:
        if s.role == "benchmark":
            continue
        for bench in benches:
            ratio = s.values / bench.values
            x, y = thin(s.dates, ratio)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=f"{s.label} over {bench.label}",
                    line={"color": s.color, "dash": "solid" if bench is benches[0] else bench.dash},
                )
            )
            drawn.append(ratio)
    fig.add_hline(y=1.0, line_color="#8C8C8C", line_width=1)
    value_axis(fig, drawn, log, "relative growth (1 = level)")
    fig.update_layout(title="Excess growth: strategy equity / benchmark equity", height=380, **LAYOUT)
    return place_legend(fig)


def returns_histogram(items: list[Series]) -> go.Figure:
    """Distribution of daily returns (%) of each bold curve."""
    fig = go.Figure()
    for s in items:
        fig.add_trace(
            go.Histogram(
                x=np.diff(s.values) / s.values[:-1] * 100,
                name=s.label,
                marker_color=s.color,
                opacity=0.55,
                nbinsx=120,
                histnorm="percent",
            )
        )
    fig.update_xaxes(title="daily return %", ticksuffix="%")
    fig.update_yaxes(title="share of days %", automargin=True)
    fig.update_layout(
        title="Distribution of daily returns (share of days per bin)",
        barmode="overlay",
        height=360,
        **{**LAYOUT, "hovermode": "closest"},
    )
    return place_legend(fig, below=TITLED_PX, width=520)  # drawn in a half-width column


def drawdown_periods(dates: np.ndarray, values: np.ndarray, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` deepest drawdowns: peak, trough, recovery date (None: not recovered), depth %, days."""
    peak_value, peak_i = 1.0, -1
    periods: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for i, v in enumerate(values):
        if v >= peak_value:
            if current is not None:
                current["recovery"] = str(dates[i])
                periods.append(current)
                current = None
            peak_value, peak_i = v, i
            continue
        depth = v / peak_value - 1.0
        if current is None:
            current = {
                "peak": str(dates[max(peak_i, 0)]),
                "trough": str(dates[i]),
                "depth": depth,
                "start": i,
            }
        elif depth < current["depth"]:
            current.update(trough=str(dates[i]), depth=depth)
    if current is not None:
        current["recovery"] = None
        periods.append(current)
    periods.sort(key=lambda p: p["depth"])
    found = []
    for p in periods[:n]:
        end = np.datetime64(p["recovery"] or str(dates[-1]))
        found.append(
            {
                "peak": p["peak"],
                "trough": p["trough"],
                "recovered": p["recovery"] or "not yet",
                "depth %": percent(p["depth"]),
                "calendar days": int((end - np.datetime64(p["peak"])).astype(np.int64)),
            }
        )
    return found


def exposure_series(weights: pl.DataFrame, name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Decision dates and per-ticker target weights of a strategy's bold member (ensemble, else first)."""
    part = weights.filter(pl.col("strategy") == name)
    members = part["member"].unique(maintain_order=True).to_list()
    member = "ensemble" if "ensemble" in members else members[0]
    part = part.filter(pl.col("member") == member).sort("date")
    wide = part.pivot(on="ticker", index="date", values="weight", aggregate_function="last").sort("date")
    dates = wide["date"].to_numpy().astype("datetime64[D]")
    return dates, {c: np.nan_to_num(wide[c].to_numpy()) for c in wide.columns if c != "date"}


def exposure_figure(result: RunResult, weights: pl.DataFrame) -> go.Figure:
    """Target weights over time: per ticker (stacked) for few tickers, gross exposure per strategy."""
    fig = go.Figure()
    shown: set[str] = set()  # what the lines are: "tickers", "decisions", "monthly" (sets the title)
    for i, entry in enumerate(result.strategies):
        if weights.filter(pl.col("strategy") == entry.name).is_empty():
            continue
        dates, per_ticker = exposure_series(weights, entry.name)
        color = COLORS[i % len(COLORS)]
        if len(result.strategies) == 1 and 1 < len(per_ticker) <= 25:
            for j, (ticker, w) in enumerate(per_ticker.items()):
                fig.add_trace(
                    go.Scatter(
                        x=dates,
                        y=w * 100,
                        name=ticker,
                        stackgroup="w",
                        line={"shape": "hv", "width": 0.5, "color": COLORS[j % len(COLORS)]},
                    )
                )
            shown.add("tickers")
            continue
        gross = np.sum(np.abs(np.stack(list(per_ticker.values()))), axis=0)
        name = f"{rows.display_name(entry)} gross exposure"
        if len(dates) > 400:  # daily decisions: the month's average reads better than 0/100% flicker
            frame = pl.DataFrame({"date": dates, "gross": gross}).with_columns(
                month=pl.col("date").dt.truncate("1mo")
            )
            monthly = frame.group_by("month", maintain_order=True).agg(pl.col("gross").mean())
            dates, gross = monthly["month"].to_numpy(), monthly["gross"].to_numpy()
            name += " (monthly average)"
            shown.add("monthly")
        else:
            shown.add("decisions")
        fig.add_trace(
            go.Scatter(x=dates, y=gross * 100, name=name, line={"shape": "hv", "width": 1.2, "color": color})
        )
    fig.update_yaxes(title="target weight %", ticksuffix="%", automargin=True)
    fig.update_layout(title=exposure_title(shown), height=360, **LAYOUT)
    return place_legend(fig)


def exposure_title(shown: set[str]) -> str:
    """The exposure chart's title, saying what its lines are (``shown``: see :func:`exposure_figure`)."""
    if shown == {"tickers"}:
        return "Target weight per ticker, stacked, at each decision"
    if shown == {"monthly"}:
        # a 0/100% daily rule averages to e.g. 25% in a month: the share of the month it was invested
        return "Gross exposure, monthly average of the daily target weights (a 0/100% rule: share of days in)"
    if shown == {"decisions"}:
        return "Gross exposure (sum of |target weights|) at each decision"
    return "Gross exposure: monthly average for daily strategies, at each decision for the others"


def cost_rows(result: RunResult, weights: pl.DataFrame) -> list[dict[str, Any]]:
    """Turnover, trades and fees paid per strategy and benchmark (stored figures, read as stored).

    Fees paid: the stored ``fees_paid`` (the period's fees over the starting value, in %) and the
    mean of the stored ``yearly_fees`` (each year's fees over the value that year started from);
    slippage is in fill prices, not in fees. Runs stored before fees were recorded show None.
    """
    out = []
    for entry in result.entries:
        yearly = [v for v in (entry.yearly_fees or {}).values() if v is not None]
        out.append(
            {
                "strategy": rows.row_label(entry),
                "turnover /yr": rounded(entry.turnover, 2),
                "trades": None if entry.trades is None else round(entry.trades),
                "fees paid % of start": percent(entry.fees_paid, 3),
                "fees %/yr (mean of years)": percent(float(np.mean(yearly)), 3) if yearly else None,
                "avg gross exposure %": percent(entry.avg_exposure, 0),
                "decision days": weights.filter(pl.col("strategy") == entry.name)
                .select(pl.col("date").n_unique())
                .item(),
            }
        )
    return out
