"""Charts and tables of stored runs (plotly figures, row dicts), for the dashboard and the HTML tearsheet.

Everything here is drawn from what the store holds: a run's typed result
(:class:`engine.result_schema.RunResult`, what ``backtest show`` prints; a
JSON-form dict is typed on the way in), its ``equity.parquet`` frame (date, strategy, role,
member, equity) and its ``weights.parquet`` frame (decision rows). Headline
figures are the stored ones, so the dashboard and the CLI agree by construction;
what the payload does not hold (drawdown periods, monthly returns, rolling Sharpe
and volatility, exposure over time) is derived from the stored curves with the
conventions of :mod:`engine.metrics` (daily close-to-close returns, start = 1).
Tables are the rows of :mod:`engine.rows` as dicts of numbers for interactive
tables; the terminal report formats the same rows.

Naming, the same in every table and chart: a stochastic strategy's table row
"NAME · seed mean (N seeds)" is the mean of its seeds' figures; "NAME · ensemble"
trades the seeds' mean prediction; a chart line "NAME · average of seed curves"
(drawn only without an ensemble) is the mean of the seeds' equity. Benchmarks are
named for what they hold ("buy-and-hold ^GSPC", "equal-weight buy-and-hold of
20 stocks"). Colours are mid-luminance, readable on light and dark backgrounds.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from engine import rows
from engine.metrics import DAYS_PER_YEAR
from engine.result_schema import RunResult, StrategyEntry, UniverseInfo
from engine.rows import NA, percent, rounded

# Okabe-Ito (colour-blind safe), without black: every colour reads on white and on near-black
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
# benchmarks: neutral tones, each with its own dash, so two benchmarks never look alike
BENCH_STYLES = (("#8C8C8C", "dash"), ("#B07AA1", "dot"), ("#9C755F", "dashdot"), ("#76B7B2", "longdash"))
ROLLING_DAYS = 252  # "12 months" of trading days for rolling figures
LAYOUT: dict[str, Any] = {
    "margin": {"t": 48, "b": 40, "l": 72, "r": 16},
    # legends under the plot: above it they collide with the title and subplot titles
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0},
    "hovermode": "x unified",
}


def entries(result: RunResult) -> list[StrategyEntry]:
    """Strategies, then benchmarks (primary first)."""
    return result.entries


def display_name(entry: StrategyEntry) -> str:
    """A result's name for people: benchmarks say what they hold (:func:`engine.rows.display_name`)."""
    return rows.display_name(entry)


def seeded(entry: StrategyEntry) -> bool:
    """A stochastic strategy with per-seed results."""
    return rows.seeded(entry)


def row_label(entry: StrategyEntry) -> str:
    """The table label of an entry's headline figures (seed mean for stochastic strategies)."""
    return rows.row_label(entry)


# --- series drawn from the stored equity ----------------------------------------------------------
def series(result: RunResult, equity: pl.DataFrame) -> list[dict[str, Any]]:
    """The bold curve of every strategy and benchmark, with its label, colour, dash and faint seeds.

    Each item: ``label, name, role, dates (datetime64[D]), values, seeds {member: values}, color, dash``.
    """
    names = {e.name: e for e in entries(result)}
    out: list[dict[str, Any]] = []
    strategy_i = bench_i = 0
    for (name, role), part in equity.group_by(["strategy", "role"], maintain_order=True):
        members = {
            str(m): g["equity"].to_numpy() for (m,), g in part.group_by(["member"], maintain_order=True)
        }
        first = next(iter(members))
        dates = part.filter(pl.col("member") == first)["date"].to_numpy().astype("datetime64[D]")
        entry = names.get(str(name))
        shown = rows.display_name(entry) if entry is not None else str(name)
        seeds = {m: v for m, v in members.items() if m != "ensemble"}
        if "ensemble" in members:
            label, values = f"{shown} · ensemble", members["ensemble"]
        elif len(seeds) > 1:
            label, values = f"{shown} · average of seed curves", np.mean(np.stack(list(seeds.values())), 0)
        else:
            label, values = shown, members[first]
        if role == "benchmark":
            color, dash = BENCH_STYLES[bench_i % len(BENCH_STYLES)]
            bench_i += 1
        else:
            color, dash = COLORS[strategy_i % len(COLORS)], "solid"
            strategy_i += 1
        out.append(
            {
                "label": label,
                "name": str(name),
                "role": role,
                "dates": dates,
                "values": values,
                "seeds": seeds if len(seeds) > 1 else {},
                "color": color,
                "dash": dash,
            }
        )
    return out


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


def _value_axis(fig: go.Figure, values: list[np.ndarray], log: bool, title: str, **where: Any) -> None:
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


def equity_figure(result: RunResult, equity: pl.DataFrame, *, log: bool = True) -> go.Figure:
    """Growth of 1: every seed faint, the ensemble (or the seeds' average) bold, benchmarks dashed."""
    fig = go.Figure()
    drawn = []
    for s in series(result, equity):
        for member, values in s["seeds"].items():
            fig.add_trace(
                go.Scatter(
                    x=s["dates"],
                    y=values,
                    mode="lines",
                    line={"width": 0.7, "color": s["color"]},
                    opacity=0.25,
                    name=f"{s['name']} seed {member}",
                    legendgroup=s["label"],
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
            drawn.append(values)
        fig.add_trace(
            go.Scatter(
                x=s["dates"],
                y=s["values"],
                mode="lines",
                name=s["label"],
                legendgroup=s["label"],
                line={
                    "width": 2.0 if s["role"] == "benchmark" else 2.4,
                    "color": s["color"],
                    "dash": s["dash"],
                },
                hovertemplate="%{y:.3f}",
            )
        )
        drawn.append(s["values"])
    _value_axis(fig, drawn, log, "growth of 1" + (" (log scale)" if log else ""))
    fig.update_layout(title="Equity, start = 1", height=460, **LAYOUT)
    return fig


def _drawdown(values: np.ndarray) -> np.ndarray:
    """Drawdown from the running peak, the initial 1.0 counting as the first peak (engine.metrics)."""
    return values / np.maximum(np.maximum.accumulate(values), 1.0) - 1.0


def drawdown_figure(result: RunResult, equity: pl.DataFrame) -> go.Figure:
    """Drawdown from the running peak of each bold curve, in %; labels as in the equity chart."""
    fig = go.Figure()
    for s in series(result, equity):
        bench = s["role"] == "benchmark"
        fig.add_trace(
            go.Scatter(
                x=s["dates"],
                y=_drawdown(s["values"]) * 100,
                mode="lines",
                name=s["label"],
                fill=None if bench else "tozeroy",
                line={"width": 1.2, "dash": s["dash"], "color": s["color"]},
                hovertemplate="%{y:.1f}%",
            )
        )
    fig.update_yaxes(title="drawdown %", ticksuffix="%", automargin=True)
    fig.update_layout(title="Drawdown from the running peak", height=320, **LAYOUT)
    return fig


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
    fig.update_xaxes(type="category", tickmode="array", tickvals=labels, ticktext=labels, tickangle=-60)
    fig.update_yaxes(title="yield %", ticksuffix="%", automargin=True)
    title = "Yield per calendar year" + (" (* partial year, hatched)" if partial else "")
    fig.update_layout(title=title, barmode="group", height=400, **{**LAYOUT, "hovermode": "closest"})
    return fig


def yearly_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per calendar year (``2022*`` when partial): the yield in % of each column of :func:`yearly_columns`."""
    columns = yearly_columns(result)
    return [
        {"year": y.label, **{c[0]: percent(c[1].get(y.year)) for c in columns}} for y in rows.years(result)
    ]


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
    fig.update_layout(title="CAGR across seeds", height=380, showlegend=False, margin=LAYOUT["margin"])
    return fig


def metrics_rows(result: RunResult) -> list[dict[str, Any]]:
    """One row per strategy (seed mean), ensemble and benchmark: the figures of ``backtest show``.

    The rows of :func:`engine.rows.summary_rows`. None marks a figure that does not
    apply (shown as "—"): seed spread of a deterministic strategy, excess of the
    benchmark over itself.
    """
    out = []
    for row in rows.summary_rows(result):
        spread = row.spread
        out.append(
            {
                "strategy": row.label,
                "role": row.role,
                "CAGR %": percent(row.cagr),
                "vs benchmark %": None if row.primary else percent(row.excess),
                "± std %": percent(spread.cagr_std) if spread else None,
                "worst %": percent(spread.cagr_worst) if spread else None,
                "best %": percent(spread.cagr_best) if spread else None,
                "seeds beating benchmark %": percent(spread.share_beating_benchmark, 0) if spread else None,
                "Sharpe": rounded(row.sharpe, 2),
                "max DD %": percent(row.max_drawdown),
                "vol %": percent(row.volatility),
                "in market %": percent(row.exposure, 0),
                "turnover /yr": rounded(row.turnover, 2),
            }
        )
    return out


def seed_rows(entry: StrategyEntry, bench_cagr: float | None) -> list[dict[str, Any]]:
    """Every seed of a stochastic strategy: the rows of :func:`engine.rows.seed_rows`."""
    return [
        {
            "seed": s.seed,
            "CAGR %": percent(s.cagr),
            "vs benchmark %": percent(s.excess),
            "Sharpe": rounded(s.sharpe, 2),
            "max DD %": percent(s.max_drawdown),
        }
        for s in rows.seed_rows(entry, bench_cagr)
    ]


def picks_rows(entry: StrategyEntry) -> list[dict[str, Any]]:
    """Annual strategies: per year held, each pick and how it did against the universe's median stock."""
    return [
        {
            "year": r.year,
            "ticker": r.ticker,
            "return %": percent(r.ret),
            "universe median %": percent(r.median),
            "beat median": None if r.beat is None else ("yes" if r.beat else "no"),
        }
        for r in rows.pick_rows(entry)
    ]


def coverage_rows(universe: UniverseInfo) -> list[dict[str, Any]]:
    """A point-in-time universe per year held: decision close, members, with prices, missing, not members."""
    return [
        {
            "year": year,
            "decision close": e.decision_close,
            "members": e.members,
            "with prices": e.with_prices,
            "missing": ", ".join(e.missing),
            "not members": ", ".join(e.excluded),
        }
        for year, e in universe.coverage.items()
    ]


# --- configuration -----------------------------------------------------------------------------------
def config_lines(result: RunResult) -> list[str]:
    """The exact configuration a run ran with (as stored), as short lines; seeds only where they matter."""
    return rows.config_lines(result)


def flat_config(result: RunResult) -> dict[str, str]:
    """Every setting of a run as ``key -> text`` (strategy parameters as ``NAME.param``)."""
    return rows.flat_config(result)


def param_diff_rows(results: list[RunResult], names: list[str]) -> list[dict[str, str]]:
    """Settings that differ between runs: one row per setting, one column per run (``—``: not set)."""
    flats = [flat_config(r) for r in results]
    keys = sorted({k for f in flats for k in f})
    return [
        {"setting": k, **{n: f.get(k, NA) for n, f in zip(names, flats, strict=True)}}
        for k in keys
        if len({f.get(k, NA) for f in flats}) > 1
    ]


# --- tearsheet panels ------------------------------------------------------------------------------------
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def monthly_returns(dates: np.ndarray, values: np.ndarray) -> dict[int, list[float | None]]:
    """Year -> 12 monthly returns (fractions; None where the period has no close in that month).

    Month-end value over the previous month-end value (the initial 1.0 before the
    first month), the convention of yearly yields in :mod:`engine.metrics`.
    """
    months = dates.astype("datetime64[M]")
    ends = np.flatnonzero(np.r_[months[1:] != months[:-1], True])
    previous = np.r_[1.0, values[ends[:-1]]]
    out: dict[int, list[float | None]] = {}
    for i, r in zip(ends, values[ends] / previous - 1.0, strict=True):
        m = months[i].astype(object)
        out.setdefault(m.year, [None] * 12)[m.month - 1] = float(r)
    return out


def monthly_heatmap_figure(item: dict[str, Any]) -> go.Figure:
    """Monthly returns of one bold curve, a year per row (red losses, blue gains)."""
    table = monthly_returns(item["dates"], item["values"])
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
            text=[["" if v is None else f"{v:.1f}" for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
            colorbar={"title": "%"},
        )
    )
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_layout(
        title=f"Monthly returns %: {item['label']}",
        height=max(300, 22 * len(years) + 120),
        margin=LAYOUT["margin"],
    )
    return fig


def rolling_figure(items: list[dict[str, Any]], window: int = ROLLING_DAYS) -> go.Figure:
    """Rolling 12-month (252-day) Sharpe and volatility of each bold curve, risk-free rate 0."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=("Sharpe", "volatility %")
    )
    for s in items:
        r = np.diff(s["values"]) / s["values"][:-1]
        if len(r) < window:
            continue
        frame = pl.DataFrame({"r": r}).with_columns(
            mean=pl.col("r").rolling_mean(window), std=pl.col("r").rolling_std(window, ddof=1)
        )
        ppy = (len(s["values"]) - 1) / ((s["dates"][-1] - s["dates"][0]).astype(np.int64) / DAYS_PER_YEAR)
        std = frame["std"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            sharpe = np.where(std > 0, frame["mean"].to_numpy() / std * math.sqrt(ppy), np.nan)
        line = {"color": s["color"], "dash": s["dash"], "width": 1.4}
        for row, y in ((1, sharpe), (2, std * math.sqrt(ppy) * 100)):
            fig.add_trace(
                go.Scatter(
                    x=s["dates"][1:],
                    y=y,
                    mode="lines",
                    name=s["label"],
                    legendgroup=s["label"],
                    showlegend=row == 1,
                    line=line,
                ),
                row=row,
                col=1,
            )
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=f"Rolling 12 months ({window} trading days)", height=480, **LAYOUT)
    return fig


def excess_figure(items: list[dict[str, Any]], *, log: bool = True) -> go.Figure:
    """Each strategy's equity over each benchmark's (1 = level with it), on their common dates."""
    fig = go.Figure()
    benches = [s for s in items if s["role"] == "benchmark"]
    drawn = []
    for s in items:
        if s["role"] == "benchmark":
            continue
        for bench in benches:
            ratio = s["values"] / bench["values"]
            fig.add_trace(
                go.Scatter(
                    x=s["dates"],
                    y=ratio,
                    mode="lines",
                    name=f"{s['label']} over {bench['label']}",
                    line={"color": s["color"], "dash": "solid" if bench is benches[0] else bench["dash"]},
                )
            )
            drawn.append(ratio)
    fig.add_hline(y=1.0, line_color="#8C8C8C", line_width=1)
    _value_axis(fig, drawn, log, "relative growth (1 = level)")
    fig.update_layout(title="Excess growth: strategy equity / benchmark equity", height=380, **LAYOUT)
    return fig


def returns_histogram(items: list[dict[str, Any]]) -> go.Figure:
    """Distribution of daily returns (%) of each bold curve."""
    fig = go.Figure()
    for s in items:
        fig.add_trace(
            go.Histogram(
                x=np.diff(s["values"]) / s["values"][:-1] * 100,
                name=s["label"],
                marker_color=s["color"],
                opacity=0.55,
                nbinsx=120,
                histnorm="percent",
            )
        )
    fig.update_xaxes(title="daily return %", ticksuffix="%")
    fig.update_yaxes(title="share of days %", automargin=True)
    fig.update_layout(
        title="Distribution of daily returns",
        barmode="overlay",
        height=360,
        **{**LAYOUT, "hovermode": "closest"},
    )
    return fig


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
    rows = []
    for p in periods[:n]:
        end = np.datetime64(p["recovery"] or str(dates[-1]))
        rows.append(
            {
                "peak": p["peak"],
                "trough": p["trough"],
                "recovered": p["recovery"] or "not yet",
                "depth %": percent(p["depth"]),
                "calendar days": int((end - np.datetime64(p["peak"])).astype(np.int64)),
            }
        )
    return rows


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
        fig.add_trace(
            go.Scatter(x=dates, y=gross * 100, name=name, line={"shape": "hv", "width": 1.2, "color": color})
        )
    fig.update_yaxes(title="target weight %", ticksuffix="%", automargin=True)
    fig.update_layout(title="Exposure and weights over time (at each decision)", height=360, **LAYOUT)
    return fig


def cost_rows(result: RunResult, weights: pl.DataFrame) -> list[dict[str, Any]]:
    """Turnover, trades and costs paid per strategy and benchmark (stored figures).

    Costs paid per year ~= turnover per year x the run's cost rate: fees are charged
    on traded value, and turnover is traded value over portfolio value per year.
    """
    rate = (result.config.cost_bps + result.config.slippage_bps) / 10_000
    out = []
    for entry in result.entries:
        turnover = entry.turnover
        out.append(
            {
                "strategy": rows.row_label(entry),
                "turnover /yr": rounded(turnover, 2),
                "trades": None if entry.trades is None else round(entry.trades),
                "costs paid %/yr": None if turnover is None else round(turnover * rate * 100, 3),
                "avg gross exposure %": percent(entry.avg_exposure, 0),
                "decision days": weights.filter(pl.col("strategy") == entry.name)
                .select(pl.col("date").n_unique())
                .item(),
            }
        )
    return out


# --- comparison ----------------------------------------------------------------------------------------
Loaded = list[tuple[str, RunResult, pl.DataFrame]]  # (run id, result, equity frame) per run


def compare_series(loaded: Loaded) -> tuple[np.datetime64, list[dict[str, Any]]]:
    """Bold curves of several runs rebased to 1 on their latest common start date.

    Identical benchmarks (same name and data fingerprint) are drawn once; each
    distinct benchmark gets its own dash and colour. A run is tagged with its
    label (``RunResult.label``), else its id's last six characters.
    """
    per_run = [(run_id, result, series(result, equity)) for run_id, result, equity in loaded]
    start = max(s["dates"][0] for _, _, items in per_run for s in items)
    out, seen = [], {}
    for i, (run_id, result, items) in enumerate(per_run):
        tag = result.label or run_id[-6:]
        for s in items:
            keep = s["dates"] >= start
            if not keep.any():
                continue
            values = s["values"][keep] / s["values"][keep][0]
            item = {**s, "dates": s["dates"][keep], "values": values, "run": run_id}
            if s["role"] == "benchmark":
                # the same benchmark over the same span (e.g. the index in two runs) is drawn once
                key = (s["label"], str(item["dates"][-1]), len(values), round(float(values[-1]), 9))
                if key in seen:
                    continue
                color, dash = BENCH_STYLES[len(seen) % len(BENCH_STYLES)]
                seen[key] = True
                item.update(label=f"{s['label']} [{tag}]", color=color, dash=dash)
            else:
                item.update(label=f"{tag} {s['label']}", color=COLORS[i % len(COLORS)], dash="solid")
            out.append(item)
    return start, out


def compare_equity_figure(loaded: Loaded, *, log: bool = True) -> go.Figure:
    """Runs overlaid from a common start (each curve = 1 there), benchmarks named and styled apart."""
    start, items = compare_series(loaded)
    fig = go.Figure()
    for s in items:
        fig.add_trace(
            go.Scatter(
                x=s["dates"],
                y=s["values"],
                mode="lines",
                name=s["label"],
                line={
                    "color": s["color"],
                    "dash": s["dash"],
                    "width": 1.6 if s["role"] == "benchmark" else 2.2,
                },
            )
        )
    _value_axis(fig, [s["values"] for s in items], log, "growth of 1" + (" (log scale)" if log else ""))
    fig.update_layout(title=f"Runs overlaid from their common start {start} (= 1)", height=480, **LAYOUT)
    return fig


def compare_drawdown_figure(loaded: Loaded) -> go.Figure:
    """Drawdowns of the curves of :func:`compare_series`, over the common period."""
    start, items = compare_series(loaded)
    fig = go.Figure()
    for s in items:
        fig.add_trace(
            go.Scatter(
                x=s["dates"],
                y=_drawdown(s["values"]) * 100,
                mode="lines",
                name=s["label"],
                line={"color": s["color"], "dash": s["dash"], "width": 1.2},
            )
        )
    fig.update_yaxes(title="drawdown %", ticksuffix="%", automargin=True)
    fig.update_layout(title=f"Drawdown from the running peak, from {start}", height=340, **LAYOUT)
    return fig


def compare_metric_rows(loaded: Loaded) -> list[dict[str, Any]]:
    """Key figures of each run over the common period of :func:`compare_series` and over its own period."""
    start, items = compare_series(loaded)
    rows = []
    for s in items:
        years = (s["dates"][-1] - s["dates"][0]).astype(np.int64) / DAYS_PER_YEAR
        cagr = s["values"][-1] ** (1 / years) - 1 if years > 0 else None
        rows.append(
            {
                "run": s["run"],
                "curve": s["label"],
                "role": s["role"],
                f"CAGR % from {start}": percent(cagr),
                "max DD % (same span)": percent(float(_drawdown(s["values"]).min())),
                "span": f"{s['dates'][0]}..{s['dates'][-1]}",
            }
        )
    return rows


def compare_yearly_rows(results: list[RunResult]) -> list[dict[str, Any]]:
    """Per calendar year of any run: the yield in % of every column of every run, side by side."""
    columns = rows.compare_yearly_columns(results, dashboard=True)
    return [
        {"year": y, **{c.label: percent(c.values.get(y)) for c in columns}} for y in rows.union_years(columns)
    ]


# --- evidence --------------------------------------------------------------------------------------------
def basis_text(result: RunResult) -> str:
    """The run's one-line basis statement (dividends, cash rate, calendar), as every surface prints it."""
    return rows.basis_line(result)


def evidence_text(result: RunResult) -> list[str]:
    """The evidence block of ``backtest show`` as plain lines (:func:`engine.rows.evidence_lines`)."""
    return [line.plain for line in rows.evidence_lines(result)]


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


# --- export --------------------------------------------------------------------------------------------
def _table_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(NA if v is None else str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tearsheet_figures(
    result: RunResult, equity: pl.DataFrame, weights: pl.DataFrame | None
) -> list[go.Figure]:
    """Every chart of the tearsheet, in page order."""
    items = series(result, equity)
    figures = [equity_figure(result, equity), drawdown_figure(result, equity), yearly_figure(result)]
    figures += [monthly_heatmap_figure(s) for s in items if s["role"] == "strategy"]
    figures += [rolling_figure(items), excess_figure(items), returns_histogram(items)]
    if weights is not None and not weights.is_empty():
        figures.append(exposure_figure(result, weights))
    seeds = seed_distribution_figure(result)
    if seeds is not None:
        figures.append(seeds)
    return figures


def tearsheet_html(
    result: RunResult,
    equity: pl.DataFrame,
    weights: pl.DataFrame | None = None,
    *,
    label: str | None = None,
    json_form: Mapping[str, Any] | None = None,
) -> str:
    """One self-contained HTML file (plotly.js inlined once, opens offline) with the run's tearsheet.

    ``label``: the run's label for the heading (default: ``RunResult.label``); when
    given it is also embedded as the JSON form's ``label``. The page embeds the run's
    JSON form: ``json_form`` as it is when given (the stored dict, in the key order of
    ``metrics.json``), else the typed result's dump (the same values).
    """
    typed = result
    embedded = dict(json_form) if json_form is not None else typed.model_dump(mode="json", exclude_unset=True)
    if label is not None:
        embedded["label"] = label
    label = label or typed.label
    items = series(typed, equity)
    parts = [
        f"<h1>Run {html.escape(typed.run_id)}" + (f": {html.escape(label)}" if label else "") + "</h1>",
        "<pre>" + html.escape("\n".join(config_lines(typed))) + "</pre>",
        "<h2>Key figures</h2>",
        _table_html(metrics_rows(typed)),
    ]
    if weights is not None and not weights.is_empty():
        parts += ["<h2>Turnover and costs</h2>", _table_html(cost_rows(typed, weights))]
    for s in items:
        parts += [
            f"<h2>Worst drawdowns: {html.escape(s['label'])}</h2>",
            _table_html(drawdown_periods(s["dates"], s["values"])),
        ]
    parts += ["<h2>Yield per calendar year (%)</h2>", _table_html(yearly_rows(typed))]
    for i, fig in enumerate(tearsheet_figures(typed, equity, weights)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0, config={"displaylogo": False}))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in typed.notes)
    if notes:
        parts.append(f"<h2>Notes</h2><ul>{notes}</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:2px 8px;"
        "text-align:right}th{background:#eee}pre{white-space:pre-wrap}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Run {html.escape(typed.run_id)}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}"
        f"<script type='application/json' id='metrics'>{html.escape(json.dumps(embedded))}</script>"
        "</body></html>"
    )
