"""Charts and tables of stored runs (plotly figures, row dicts), for the dashboard.

Everything here is drawn from what the store holds: a run's JSON payload (the
one ``backtest show`` prints) and its ``equity.parquet`` frame (date, strategy,
role, member, equity). No numbers are recomputed except drawdowns from equity
and the seeds' mean curve, so the dashboard and the CLI agree by construction.
Fractions are shown as percentages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
BENCH_COLORS = ("#333333", "#7f7f7f")


def percent(value: float | None, digits: int = 2) -> float | None:
    """A fraction as a rounded percentage number (0.1049 -> 10.49); None stays None."""
    return None if value is None else round(value * 100, digits)


def entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [*payload["strategies"], *payload["benchmarks"]]


def _curves(equity: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """strategy -> {role, dates, members {name: values}, bold (name, values)}.

    The bold curve is the ensemble member if there is one, else the mean of the
    seeds' curves, else the only member.
    """
    out: dict[str, dict[str, Any]] = {}
    for (name, role), part in equity.group_by(["strategy", "role"], maintain_order=True):
        members = {
            str(m): g["equity"].to_numpy() for (m,), g in part.group_by(["member"], maintain_order=True)
        }
        dates = part.filter(pl.col("member") == next(iter(members)))["date"].to_list()
        if "ensemble" in members:
            bold = ("ensemble", members["ensemble"])
        elif len(members) > 1:
            bold = ("mean of seeds", np.mean(np.stack(list(members.values())), axis=0))
        else:
            bold = (next(iter(members)), next(iter(members.values())))
        out[str(name)] = {"role": role, "dates": dates, "members": members, "bold": bold}
    return out


def equity_figure(equity: pl.DataFrame, title: str = "Equity (log scale), start = 1") -> go.Figure:
    """Each seed faint, the ensemble or seeds' mean bold, benchmarks dark."""
    fig = go.Figure()
    strategy_i = bench_i = 0
    for name, curve in _curves(equity).items():
        bench = curve["role"] == "benchmark"
        color = BENCH_COLORS[bench_i % 2] if bench else COLORS[strategy_i % len(COLORS)]
        bench_i += bench
        strategy_i += not bench
        if len(curve["members"]) > 1:
            for member, values in curve["members"].items():
                if member == "ensemble":
                    continue
                fig.add_trace(
                    go.Scatter(
                        x=curve["dates"],
                        y=values,
                        mode="lines",
                        line={"width": 0.7, "color": color},
                        opacity=0.25,
                        name=f"{name} seed {member}",
                        legendgroup=name,
                        showlegend=False,
                        hovertemplate=f"{name} seed {member}: %{{y:.3f}}<extra></extra>",
                    )
                )
        label, values = curve["bold"]
        shown = name if len(curve["members"]) == 1 else f"{name} ({label})"
        fig.add_trace(
            go.Scatter(
                x=curve["dates"],
                y=values,
                mode="lines",
                name=shown,
                legendgroup=name,
                line={
                    "width": 2.4 if not bench else 2.0,
                    "color": color,
                    "dash": "dash" if bench else "solid",
                },
            )
        )
    fig.update_yaxes(type="log", title="equity")
    fig.update_layout(title=title, height=460, margin={"t": 50, "b": 30}, legend={"orientation": "h"})
    return fig


def drawdown_figure(equity: pl.DataFrame) -> go.Figure:
    """Drawdown from the running peak of each bold curve, in %."""
    fig = go.Figure()
    for i, (name, curve) in enumerate(_curves(equity).items()):
        values = curve["bold"][1]
        drawdown = values / np.maximum.accumulate(values) - 1.0
        bench = curve["role"] == "benchmark"
        fig.add_trace(
            go.Scatter(
                x=curve["dates"],
                y=drawdown * 100,
                mode="lines",
                name=name,
                fill="tozeroy" if not bench else None,
                line={
                    "width": 1.2,
                    "dash": "dash" if bench else "solid",
                    "color": COLORS[i % len(COLORS)] if not bench else BENCH_COLORS[0],
                },
            )
        )
    fig.update_yaxes(title="drawdown %")
    fig.update_layout(title="Drawdown", height=300, margin={"t": 50, "b": 30}, legend={"orientation": "h"})
    return fig


def yearly_figure(payload: dict[str, Any]) -> go.Figure:
    """Per-calendar-year yield bars, every strategy (seed mean) and benchmark side by side."""
    fig = go.Figure()
    partial = set(payload["benchmark"].get("partial_years", []))
    years = list(payload["benchmark"]["yearly"])
    labels = [f"{y}*" if int(y) in partial else y for y in years]
    for i, entry in enumerate(entries(payload)):
        bench = entry["role"] == "benchmark"
        fig.add_trace(
            go.Bar(
                x=labels,
                y=[percent(entry["yearly"].get(y)) for y in years],
                name=entry["name"],
                marker_color=BENCH_COLORS[i % 2] if bench else COLORS[i % len(COLORS)],
            )
        )
    fig.update_yaxes(title="yield %")
    fig.update_layout(
        title="Yield per calendar year" + (" (* partial year)" if partial else ""),
        barmode="group",
        height=380,
        margin={"t": 50, "b": 30},
        legend={"orientation": "h"},
    )
    return fig


def seed_distribution_figure(payload: dict[str, Any]) -> go.Figure | None:
    """CAGR of every seed per seeded strategy, with buy-and-hold as a reference line; None without seeds."""
    seeded = [e for e in payload["strategies"] if e.get("seeds")]
    if not seeded:
        return None
    fig = go.Figure()
    for i, entry in enumerate(seeded):
        values = [percent(s["cagr"]) for s in entry["seeds"]]
        fig.add_trace(
            go.Box(
                y=values,
                name=entry["name"],
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker_color=COLORS[i],
                text=[f"seed {s['seed']}" for s in entry["seeds"]],
                hovertemplate="%{text}: %{y:.2f}%<extra></extra>",
            )
        )
    bench = payload["benchmark"]
    fig.add_hline(
        y=percent(bench["cagr"]),
        line_dash="dash",
        line_color=BENCH_COLORS[0],
        annotation_text=f"{bench['name']} {percent(bench['cagr'])}%",
        annotation_position="top left",
    )
    fig.update_yaxes(title="CAGR %")
    fig.update_layout(title="CAGR across seeds", height=380, margin={"t": 50, "b": 30}, showlegend=False)
    return fig


def metrics_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per strategy, ensemble and benchmark: the figures of ``backtest show``."""
    bench = payload["benchmark"]["cagr"]
    rows = []
    for entry in entries(payload):
        agg = entry["aggregate"] if entry.get("stochastic") else None
        figures = [(entry["name"], entry, agg)]
        if entry.get("ensemble"):
            figures.append((f"{entry['name']} ensemble", entry["ensemble"], None))
        for name, f, a in figures:
            rows.append(
                {
                    "strategy": name,
                    "role": entry["role"],
                    "CAGR %": percent(f["cagr"]),
                    "vs B&H %": None
                    if entry["role"] == "benchmark" or f["cagr"] is None
                    else percent(f["cagr"] - bench),
                    "± std %": percent(a["cagr_std"]) if a else None,
                    "worst %": percent(a["cagr_worst"]) if a else None,
                    "best %": percent(a["cagr_best"]) if a else None,
                    "seeds beating B&H %": percent(a["share_beating_benchmark"], 0) if a else None,
                    "Sharpe": None if f["sharpe"] is None else round(f["sharpe"], 2),
                    "max DD %": percent(f["max_drawdown"]),
                    "vol %": percent(f["volatility"]),
                    "in market %": percent(f["exposure"], 0),
                }
            )
    return rows


def seed_rows(entry: dict[str, Any], bench_cagr: float) -> list[dict[str, Any]]:
    return [
        {
            "seed": s["seed"],
            "CAGR %": percent(s["cagr"]),
            "vs B&H %": percent(s["cagr"] - bench_cagr),
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
                    "beat median": None if r is None or m is None else r > m,
                }
            )
    return rows


def compare_equity_figure(runs: list[tuple[str, pl.DataFrame]]) -> go.Figure:
    """Bold curves of several runs overlaid (one color per run, benchmarks dashed)."""
    fig = go.Figure()
    for i, (run_id, equity) in enumerate(runs):
        for name, curve in _curves(equity).items():
            bench = curve["role"] == "benchmark"
            fig.add_trace(
                go.Scatter(
                    x=curve["dates"],
                    y=curve["bold"][1],
                    mode="lines",
                    name=f"{run_id[-6:]} {name}",
                    line={
                        "color": COLORS[i % len(COLORS)],
                        "dash": "dash" if bench else "solid",
                        "width": 1.2 if bench else 2.0,
                    },
                )
            )
    fig.update_yaxes(type="log", title="equity")
    fig.update_layout(title="Runs overlaid (log scale)", height=460, margin={"t": 50, "b": 30})
    return fig


def compare_yearly_rows(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns = [(f"{p['run_id'][-6:]} {e['name']}", e["yearly"]) for p in payloads for e in entries(p)]
    years = sorted({y for _, yearly in columns for y in yearly})
    return [{"year": y, **{name: percent(yearly.get(y)) for name, yearly in columns}} for y in years]


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
        first = [percent(f[0]) for f in ranks["cagr_by_fold"]]
        second = [percent(f[1]) for f in ranks["cagr_by_fold"]]
        fig.add_trace(
            go.Scatter(
                x=first,
                y=second,
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
    fig.update_yaxes(title="CAGR % in the second half")
    fig.update_layout(
        title="Do seed ranks persist? (each point a seed)", height=380, margin={"t": 50, "b": 30}
    )
    return fig
