"""Charts and tables of stored runs (plotly figures, row dicts), for the dashboard and the HTML tearsheet.

Everything here is drawn from what the store holds: a run's JSON payload (the one
``backtest show`` prints), its ``equity.parquet`` frame (date, strategy, role,
member, equity) and its ``weights.parquet`` frame (decision rows). Headline
figures are the stored ones, so the dashboard and the CLI agree by construction;
what the payload does not hold (drawdown periods, monthly returns, rolling Sharpe
and volatility, exposure over time) is derived from the stored curves with the
conventions of :mod:`engine.metrics` (daily close-to-close returns, start = 1).

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
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from engine.metrics import DAYS_PER_YEAR

# Okabe-Ito (colour-blind safe), without black: every colour reads on white and on near-black
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")
# benchmarks: neutral tones, each with its own dash, so two benchmarks never look alike
BENCH_STYLES = (("#8C8C8C", "dash"), ("#B07AA1", "dot"), ("#9C755F", "dashdot"), ("#76B7B2", "longdash"))
NA = "—"
ROLLING_DAYS = 252  # "12 months" of trading days for rolling figures
LAYOUT: dict[str, Any] = {
    "margin": {"t": 48, "b": 40, "l": 72, "r": 16},
    # legends under the plot: above it they collide with the title and subplot titles
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0},
    "hovermode": "x unified",
}


def percent(value: float | None, digits: int = 2) -> float | None:
    """A fraction as a rounded percentage number (0.1049 -> 10.49); None stays None."""
    return None if value is None else round(value * 100, digits)


def entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [*payload["strategies"], *payload["benchmarks"]]


def display_name(entry: dict[str, Any]) -> str:
    """A result's name for people: benchmarks say what they hold."""
    if entry.get("role") != "benchmark":
        return str(entry["name"])
    tickers = entry.get("tickers") or []
    if len(tickers) > 1:
        return f"equal-weight buy-and-hold of {len(tickers)} stocks"
    if entry["name"] == "buy-and-hold" and len(tickers) == 1:
        return f"buy-and-hold {tickers[0]}"
    return str(entry["name"])


def seeded(entry: dict[str, Any]) -> bool:
    return bool(entry.get("stochastic") and entry.get("seeds"))


def row_label(entry: dict[str, Any]) -> str:
    """The table label of an entry's headline figures (seed mean for stochastic strategies)."""
    name = display_name(entry)
    return f"{name} · seed mean ({len(entry['seeds'])} seeds)" if seeded(entry) else name


# --- series drawn from the stored equity ----------------------------------------------------------
def series(payload: dict[str, Any], equity: pl.DataFrame) -> list[dict[str, Any]]:
    """The bold curve of every strategy and benchmark, with its label, colour, dash and faint seeds.

    Each item: ``label, name, role, dates (datetime64[D]), values, seeds {member: values}, color, dash``.
    """
    names = {e["name"]: e for e in entries(payload)}
    out: list[dict[str, Any]] = []
    strategy_i = bench_i = 0
    for (name, role), part in equity.group_by(["strategy", "role"], maintain_order=True):
        members = {
            str(m): g["equity"].to_numpy() for (m,), g in part.group_by(["member"], maintain_order=True)
        }
        first = next(iter(members))
        dates = part.filter(pl.col("member") == first)["date"].to_numpy().astype("datetime64[D]")
        entry = names.get(str(name), {"name": name, "role": role})
        shown = display_name(entry)
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


def equity_figure(payload: dict[str, Any], equity: pl.DataFrame, *, log: bool = True) -> go.Figure:
    """Growth of 1: every seed faint, the ensemble (or the seeds' average) bold, benchmarks dashed."""
    fig = go.Figure()
    drawn = []
    for s in series(payload, equity):
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


def drawdown_figure(payload: dict[str, Any], equity: pl.DataFrame) -> go.Figure:
    """Drawdown from the running peak of each bold curve, in %; labels as in the equity chart."""
    fig = go.Figure()
    for s in series(payload, equity):
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


def yearly_columns(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, str]]:
    """(label, {year: yield}, colour, shade) per column: each strategy, its ensemble, each benchmark."""
    out = []
    strategy_i = bench_i = 0
    for entry in entries(payload):
        if entry["role"] == "benchmark":
            color = BENCH_STYLES[bench_i % len(BENCH_STYLES)][0]
            bench_i += 1
        else:
            color = COLORS[strategy_i % len(COLORS)]
            strategy_i += 1
        out.append((row_label(entry), entry["yearly"], color, ""))
        if entry.get("ensemble"):
            out.append((f"{display_name(entry)} · ensemble", entry["ensemble"]["yearly"], color, "light"))
    return out


def yearly_figure(payload: dict[str, Any]) -> go.Figure:
    """Yield per calendar year; every year labelled, partial years marked * and hatched."""
    fig = go.Figure()
    partial = {str(y) for y in payload["benchmark"].get("partial_years", [])}
    years = list(payload["benchmark"]["yearly"])
    labels = [f"{y}*" if y in partial else y for y in years]
    for label, yearly, color, pattern in yearly_columns(payload):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[percent(yearly.get(y)) for y in years],
                name=label,
                marker={
                    "color": color,
                    "opacity": 0.55 if pattern == "light" else 1.0,
                    "pattern": {"shape": ["/" if y in partial else "" for y in years], "solidity": 0.35},
                },
                hovertemplate="%{x}: %{y:.2f}%",
            )
        )
    fig.update_xaxes(type="category", tickmode="array", tickvals=labels, ticktext=labels, tickangle=-60)
    fig.update_yaxes(title="yield %", ticksuffix="%", automargin=True)
    title = "Yield per calendar year" + (" (* partial year, hatched)" if partial else "")
    fig.update_layout(title=title, barmode="group", height=400, **{**LAYOUT, "hovermode": "closest"})
    return fig


def yearly_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Per calendar year (``2022*`` when partial): the yield in % of each column of :func:`yearly_columns`."""
    partial = {str(y) for y in payload["benchmark"].get("partial_years", [])}
    columns = yearly_columns(payload)
    return [
        {"year": f"{y}*" if y in partial else y, **{c[0]: percent(c[1].get(y)) for c in columns}}
        for y in payload["benchmark"]["yearly"]
    ]


def seed_distribution_figure(payload: dict[str, Any]) -> go.Figure | None:
    """CAGR of every seed per seeded strategy, with each benchmark as a reference line; None without seeds."""
    chosen = [e for e in payload["strategies"] if seeded(e)]
    if not chosen:
        return None
    fig = go.Figure()
    for i, entry in enumerate(chosen):
        fig.add_trace(
            go.Box(
                y=[percent(s["cagr"]) for s in entry["seeds"]],
                name=display_name(entry),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker_color=COLORS[i % len(COLORS)],
                text=[f"seed {s['seed']}" for s in entry["seeds"]],
                hovertemplate="%{text}: %{y:.2f}%<extra></extra>",
            )
        )
    for i, bench in enumerate(payload["benchmarks"]):
        color, dash = BENCH_STYLES[i % len(BENCH_STYLES)]
        fig.add_hline(
            y=percent(bench["cagr"]),
            line_dash=dash,
            line_color=color,
            annotation_text=f"{display_name(bench)} {percent(bench['cagr'])}%",
            annotation_position="top left",
        )
    fig.update_yaxes(title="CAGR %", ticksuffix="%", automargin=True)
    fig.update_layout(title="CAGR across seeds", height=380, showlegend=False, margin=LAYOUT["margin"])
    return fig


def metrics_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per strategy (seed mean), ensemble and benchmark: the figures of ``backtest show``.

    None marks a figure that does not apply (shown as "—"): seed spread of a
    deterministic strategy, excess of the benchmark over itself.
    """
    bench = payload["benchmark"]["cagr"]
    rows = []
    for entry in entries(payload):
        agg = entry["aggregate"] if seeded(entry) else None
        figures = [(row_label(entry), entry, agg)]
        if entry.get("ensemble"):
            figures.append((f"{display_name(entry)} · ensemble", entry["ensemble"], None))
        for name, f, a in figures:
            primary = entry["role"] == "benchmark" and entry["name"] == payload["benchmark"]["name"]
            rows.append(
                {
                    "strategy": name,
                    "role": entry["role"],
                    "CAGR %": percent(f["cagr"]),
                    "vs benchmark %": None if primary or f["cagr"] is None else percent(f["cagr"] - bench),
                    "± std %": percent(a["cagr_std"]) if a else None,
                    "worst %": percent(a["cagr_worst"]) if a else None,
                    "best %": percent(a["cagr_best"]) if a else None,
                    "seeds beating benchmark %": percent(a["share_beating_benchmark"], 0) if a else None,
                    "Sharpe": None if f["sharpe"] is None else round(f["sharpe"], 2),
                    "max DD %": percent(f["max_drawdown"]),
                    "vol %": percent(f["volatility"]),
                    "in market %": percent(f["exposure"], 0),
                    "turnover /yr": None if f.get("turnover") is None else round(f["turnover"], 2),
                }
            )
    return rows


def seed_rows(entry: dict[str, Any], bench_cagr: float) -> list[dict[str, Any]]:
    return [
        {
            "seed": s["seed"],
            "CAGR %": percent(s["cagr"]),
            "vs benchmark %": None if s["cagr"] is None else percent(s["cagr"] - bench_cagr),
            "Sharpe": None if s["sharpe"] is None else round(s["sharpe"], 2),
            "max DD %": percent(s["max_drawdown"]),
        }
        for s in entry["seeds"]
    ]


def picks_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Annual strategies: per year held, each pick and how it did against the universe's median stock."""
    rows = []
    returns = entry.get("pick_returns", {})
    medians = entry.get("universe_median_return", {})
    for year, tickers in entry.get("picks", {}).items():
        for ticker in tickers:
            r = returns.get(year, {}).get(ticker)
            m = medians.get(year)
            rows.append(
                {
                    "year": year,
                    "ticker": ticker,
                    "return %": percent(r),
                    "universe median %": percent(m),
                    "beat median": None if r is None or m is None else ("yes" if r > m else "no"),
                }
            )
    return rows


# --- configuration -----------------------------------------------------------------------------------
def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_fmt(v) for v in value)
    return str(value)


def _seed_text(seeds: list[int]) -> str:
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"
    return ",".join(str(s) for s in seeds)


def _tickers(tickers: list[str]) -> str:
    return ", ".join(tickers) if len(tickers) <= 3 else f"{len(tickers)} tickers"


def config_lines(payload: dict[str, Any]) -> list[str]:
    """The exact configuration a run ran with (as stored), as short lines; seeds only where they matter."""
    config, data, period = payload["config"], payload["data"], payload["period"]
    stochastic = any(e.get("stochastic") for e in payload["strategies"])
    dates = f"{config.get('start') or 'first day'} .. {config.get('end') or 'last day'}"
    lines = [
        f"data {data.get('spec')} ({_tickers(data.get('tickers', []))}, {data.get('first')} .. "
        f"{data.get('last')}) · dates asked {dates} · traded {period['start']} .. {period['end']} "
        f"({period['years']:.1f} years)",
        f"{config.get('frequency') or payload['strategies'][0].get('frequency', 'daily')} signals · costs "
        f"{config.get('cost_bps', 0):g} bps · slippage {config.get('slippage_bps', 0):g} bps · execution lag "
        f"{config.get('execution_lag', 0)} · "
        + (
            f"seeds {_seed_text(list(config.get('seeds', [])))}" if stochastic else "deterministic (no seeds)"
        ),
    ]
    if config.get("headlines"):
        lines.append(f"headlines {config['headlines']} (model {config.get('headline_model')})")
    for entry in payload["strategies"]:
        params = " ".join(f"{k}={_fmt(v)}" for k, v in entry.get("params", {}).items())
        lines.append(f"{entry['name']}: {params or '(no parameters)'}")
    for failed in payload.get("failed_strategies", []):
        lines.append(f"{failed['name']}: FAILED {failed['error']}")
    return lines


def flat_config(payload: dict[str, Any]) -> dict[str, str]:
    """Every setting of a run as ``key -> text`` (strategy parameters as ``NAME.param``)."""
    out = {k: _fmt(v) for k, v in payload["config"].items() if k != "strategies" and v not in (None, (), [])}
    for entry in payload["strategies"]:
        for k, v in entry.get("params", {}).items():
            out[f"{entry['name']}.{k}"] = _fmt(v)
    out["traded"] = f"{payload['period']['start']}..{payload['period']['end']}"
    return out


def param_diff_rows(payloads: list[dict[str, Any]], names: list[str]) -> list[dict[str, str]]:
    """Settings that differ between runs: one row per setting, one column per run (``—``: not set)."""
    flats = [flat_config(p) for p in payloads]
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


def exposure_figure(payload: dict[str, Any], weights: pl.DataFrame) -> go.Figure:
    """Target weights over time: per ticker (stacked) for few tickers, gross exposure per strategy."""
    fig = go.Figure()
    for i, entry in enumerate(payload["strategies"]):
        if weights.filter(pl.col("strategy") == entry["name"]).is_empty():
            continue
        dates, per_ticker = exposure_series(weights, entry["name"])
        color = COLORS[i % len(COLORS)]
        if len(payload["strategies"]) == 1 and 1 < len(per_ticker) <= 25:
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
        name = f"{display_name(entry)} gross exposure"
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


def cost_rows(payload: dict[str, Any], weights: pl.DataFrame) -> list[dict[str, Any]]:
    """Turnover, trades and costs paid per strategy and benchmark (stored figures).

    Costs paid per year ~= turnover per year x the run's cost rate: fees are charged
    on traded value, and turnover is traded value over portfolio value per year.
    """
    rate = (payload["config"].get("cost_bps", 0) + payload["config"].get("slippage_bps", 0)) / 10_000
    rows = []
    for entry in entries(payload):
        turnover = entry.get("turnover")
        rows.append(
            {
                "strategy": row_label(entry),
                "turnover /yr": None if turnover is None else round(turnover, 2),
                "trades": None if entry.get("trades") is None else round(entry["trades"]),
                "costs paid %/yr": None if turnover is None else round(turnover * rate * 100, 3),
                "avg gross exposure %": percent(entry.get("avg_exposure"), 0),
                "decision days": weights.filter(pl.col("strategy") == entry["name"])
                .select(pl.col("date").n_unique())
                .item(),
            }
        )
    return rows


# --- comparison ----------------------------------------------------------------------------------------
def compare_series(
    loaded: list[tuple[str, dict[str, Any], pl.DataFrame]],
) -> tuple[np.datetime64, list[dict[str, Any]]]:
    """Bold curves of several runs rebased to 1 on their latest common start date.

    Identical benchmarks (same name and data fingerprint) are drawn once; each
    distinct benchmark gets its own dash and colour.
    """
    per_run = [(run_id, payload, series(payload, equity)) for run_id, payload, equity in loaded]
    start = max(s["dates"][0] for _, _, items in per_run for s in items)
    out, seen = [], {}
    for i, (run_id, payload, items) in enumerate(per_run):
        tag = payload.get("label") or run_id[-6:]
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


def compare_equity_figure(
    loaded: list[tuple[str, dict[str, Any], pl.DataFrame]], *, log: bool = True
) -> go.Figure:
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


def compare_drawdown_figure(loaded: list[tuple[str, dict[str, Any], pl.DataFrame]]) -> go.Figure:
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


def compare_metric_rows(loaded: list[tuple[str, dict[str, Any], pl.DataFrame]]) -> list[dict[str, Any]]:
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


def compare_yearly_rows(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns = [
        (f"{p.get('label') or p['run_id'][-6:]} {label}", yearly)
        for p in payloads
        for label, yearly, _, _ in yearly_columns(p)
    ]
    years = sorted({y for _, yearly in columns for y in yearly})
    return [{"year": y, **{name: percent(yearly.get(y)) for name, yearly in columns}} for y in years]


# --- evidence --------------------------------------------------------------------------------------------
def basis_text(payload: dict[str, Any]) -> str:
    """The run's one-line basis statement (dividends, cash rate, calendar), as every surface prints it."""
    from engine.report import basis_line

    return basis_line(payload)


def evidence_text(payload: dict[str, Any]) -> list[str]:
    """The evidence block of ``backtest show`` as plain lines (rich markup removed)."""
    import re

    from engine.report import evidence_lines

    return [re.sub(r"\[/?[a-z ]+\]", "", line) for line in evidence_lines(payload)]


def rank_figure(payload: dict[str, Any]) -> go.Figure | None:
    """Each seed's CAGR in the first half against the second (regression to the mean made visible)."""
    fig = go.Figure()
    shown = False
    for i, (name, ev) in enumerate((payload.get("evidence") or {}).items()):
        ranks = ev.get("regression_to_mean")
        if not ranks:
            continue
        entry = next(e for e in payload["strategies"] if e["name"] == name)
        fig.add_trace(
            go.Scatter(
                x=[percent(f[0]) for f in ranks["cagr_by_fold"]],
                y=[percent(f[1]) for f in ranks["cagr_by_fold"]],
                mode="markers+text",
                text=[str(s["seed"]) for s in entry["seeds"]],
                textposition="top center",
                name=f"{name} (Spearman {ranks['rank_correlation']:+.2f})",
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
    payload: dict[str, Any], equity: pl.DataFrame, weights: pl.DataFrame | None
) -> list[go.Figure]:
    """Every chart of the tearsheet, in page order."""
    items = series(payload, equity)
    figures = [equity_figure(payload, equity), drawdown_figure(payload, equity), yearly_figure(payload)]
    figures += [monthly_heatmap_figure(s) for s in items if s["role"] == "strategy"]
    figures += [rolling_figure(items), excess_figure(items), returns_histogram(items)]
    if weights is not None and not weights.is_empty():
        figures.append(exposure_figure(payload, weights))
    seeds = seed_distribution_figure(payload)
    if seeds is not None:
        figures.append(seeds)
    return figures


def tearsheet_html(payload: dict[str, Any], equity: pl.DataFrame, weights: pl.DataFrame | None = None) -> str:
    """One self-contained HTML file (plotly.js inlined once, opens offline) with the run's tearsheet."""
    items = series(payload, equity)
    parts = [
        f"<h1>Run {html.escape(payload['run_id'])}"
        + (f": {html.escape(payload['label'])}" if payload.get("label") else "")
        + "</h1>",
        "<pre>" + html.escape("\n".join(config_lines(payload))) + "</pre>",
        "<h2>Key figures</h2>",
        _table_html(metrics_rows(payload)),
    ]
    if weights is not None and not weights.is_empty():
        parts += ["<h2>Turnover and costs</h2>", _table_html(cost_rows(payload, weights))]
    for s in items:
        parts += [
            f"<h2>Worst drawdowns: {html.escape(s['label'])}</h2>",
            _table_html(drawdown_periods(s["dates"], s["values"])),
        ]
    parts += ["<h2>Yield per calendar year (%)</h2>", _table_html(yearly_rows(payload))]
    for i, fig in enumerate(tearsheet_figures(payload, equity, weights)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=i == 0, config={"displaylogo": False}))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in payload.get("notes", []))
    if notes:
        parts.append(f"<h2>Notes</h2><ul>{notes}</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:2px 8px;"
        "text-align:right}th{background:#eee}pre{white-space:pre-wrap}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Run {html.escape(payload['run_id'])}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}"
        f"<script type='application/json' id='metrics'>{html.escape(json.dumps(payload))}</script>"
        "</body></html>"
    )
