"""The curves the dashboard draws, from a run's stored equity: one :class:`Series` per line.

Drawn from ``equity.parquet`` (date, strategy, role, member, equity; start = 1)
and the run's typed result (:class:`engine.api.RunResult`) for names.
Naming, the same in every table and chart: a stochastic strategy's table row
"NAME · seed mean (N seeds)" is the mean of its seeds' figures; "NAME · ensemble"
trades the seeds' mean prediction; a chart line "NAME · average of seed curves"
(drawn only without an ensemble) is the mean of the seeds' equity. Benchmarks are
named for what they hold ("buy-and-hold ^GSPC", "equal-weight buy-and-hold of
20 stocks").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from engine import rows
from engine.api import RunResult
from engine.dashboard.style import BENCH_STYLES, COLORS, RUN_DASHES


@dataclass(frozen=True, eq=False)
class Series:
    """One bold curve: a strategy's (ensemble, seed average or only member) or a benchmark's.

    ``dates`` datetime64[D] closes; ``values`` equity on them (start = 1); ``seeds``
    member -> values of each seed (drawn faint; empty with one seed); ``run`` the
    run id in a comparison of runs (None in one run's charts).
    """

    label: str
    name: str
    role: str  # "strategy" or "benchmark"
    dates: np.ndarray
    values: np.ndarray
    seeds: dict[str, np.ndarray] = field(default_factory=dict)
    color: str = COLORS[0]
    dash: str = "solid"
    run: str | None = None


def series(result: RunResult, equity: pl.DataFrame) -> list[Series]:
    """The bold curve of every strategy and benchmark, with its label, colour, dash and faint seeds.

    One :class:`Series` per strategy and benchmark, in the order of the equity frame.
    """
    names = {e.name: e for e in result.entries}
    out: list[Series] = []
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
        kept = seeds if len(seeds) > 1 else {}
        out.append(
            Series(
                label=label,
                name=str(name),
                role=str(role),
                dates=dates,
                values=values,
                seeds=kept,
                color=color,
                dash=dash,
            )
        )
    return out


def drawdown(values: np.ndarray) -> np.ndarray:
    """Drawdown from the running peak, the initial 1.0 counting as the first peak (engine.api (metrics))."""
    return values / np.maximum(np.maximum.accumulate(values), 1.0) - 1.0


Loaded = list[tuple[str, RunResult, pl.DataFrame]]  # (run id, result, equity frame) per run


def compare_series(loaded: Loaded) -> tuple[np.datetime64, list[Series]]:
    """Bold curves of several runs rebased to 1 on their latest common start date.

    Identical benchmarks (same name and data fingerprint) are drawn once; each
    distinct benchmark gets its own dash and neutral colour. Each (run, strategy)
    gets its own colour and each run its own line style (:data:`RUN_DASHES`: the
    first run solid). A run is tagged with its label (``RunResult.label``), else
    its id's last six characters.
    """
    per_run = [(run_id, result, series(result, equity)) for run_id, result, equity in loaded]
    start = max(s.dates[0] for _, _, items in per_run for s in items)
    out: list[Series] = []
    seen: dict[tuple[str, str, int, float], bool] = {}
    strategies = 0
    for i, (run_id, result, items) in enumerate(per_run):
        tag = result.label or run_id[-6:]
        for s in items:
            keep = s.dates >= start
            if not keep.any():
                continue
            values = s.values[keep] / s.values[keep][0]
            item = dataclasses.replace(s, dates=s.dates[keep], values=values, run=run_id)
            if s.role == "benchmark":
                # the same benchmark over the same span (e.g. the index in two runs) is drawn once
                key = (s.label, str(item.dates[-1]), len(values), round(float(values[-1]), 9))
                if key in seen:
                    continue
                color, dash = BENCH_STYLES[len(seen) % len(BENCH_STYLES)]
                seen[key] = True
                item = dataclasses.replace(item, label=f"{s.label} [{tag}]", color=color, dash=dash)
            else:
                # each (run, strategy) its own colour, the run its line style: two strategies of one
                # run, or one strategy in two runs, never look alike
                color = COLORS[strategies % len(COLORS)]
                strategies += 1
                dash = RUN_DASHES[i % len(RUN_DASHES)]
                item = dataclasses.replace(item, label=f"{tag} {s.label}", color=color, dash=dash)
            out.append(item)
    return start, out


MAX_POINTS = 2000  # points per drawn line: ~2 per pixel column of a wide chart


def thin(
    dates: np.ndarray, values: np.ndarray, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """The points of one line to draw: at most ``max_points``, extremes kept (min-max decimation).

    Why: a 33-year run has 8,313 days per line and a dozen lines per chart; plotly in
    the browser spent seconds laying out and drawing them. The days are cut into
    ``max_points // 2`` consecutive buckets and each bucket keeps its lowest and its
    highest point, in date order, plus the first and the last day, so peaks,
    troughs (the maximum drawdown) and the end value are drawn exactly; at chart
    resolution the line looks the same. Only for drawing: figures are computed from
    the full curves. Lines of at most ``max_points`` points come back unchanged.
    NaNs (days before a curve starts) count as neither low nor high.
    """
    n = len(values)
    if n <= max_points:
        return dates, values
    buckets = max(1, (max_points - 2) // 2)
    size = -(-n // buckets)  # ceil
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    grid = padded.reshape(buckets, size)
    valid = ~np.isnan(grid).all(axis=1)
    filled_lo = np.where(np.isnan(grid), np.inf, grid)
    filled_hi = np.where(np.isnan(grid), -np.inf, grid)
    base = np.arange(buckets) * size
    lo = (base + filled_lo.argmin(axis=1))[valid]
    hi = (base + filled_hi.argmax(axis=1))[valid]
    keep = np.unique(np.concatenate([[0, n - 1], lo, hi]))
    return dates[keep], values[keep]
