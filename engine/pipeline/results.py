"""Results of a run as it leaves the simulation (arrays), and the writer of its one JSON form.

:class:`SimulatedRun` holds what a run in this process produced (equity curves,
target weights, metric arrays); its ``to_dict`` writes the JSON form that
``metrics.json`` holds and ``--json`` prints. It only lays figures out: every
statistic (seed means and aggregates, fees) is computed in engine.pipeline.metrics.
Surfaces read that form through the typed model
:class:`engine.store.result_schema.RunResult` (``load_result``), so every surface
shows the same numbers. Fractions throughout (0.1 = 10%).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.pipeline.checkpoint import Checkpoint
from engine.pipeline.metrics import MetricSet, seed_aggregate
from strategies.base import ENSEMBLE, Member

REPORTED = MetricSet.SCALARS  # the scalar metrics, in the order reports show them


@dataclass(frozen=True, eq=False)
class StrategyResult:
    """One strategy (or benchmark) over the run's trading period."""

    name: str
    role: str  # "strategy" or "benchmark"
    params: dict[str, Any]
    frequency: str
    stochastic: bool
    tickers: tuple[str, ...]
    members: tuple[Member, ...]
    metrics: MetricSet
    equity: np.ndarray  # (n_period_days, n_members)
    targets: np.ndarray  # (n_data_days, n_members, n_tickers), NaN rows = hold
    checkpoint: Checkpoint | None = None  # online/walk-forward strategies: state to continue from
    picks: dict[str, Any] | None = None  # annual strategies: see engine.pipeline.picks.annual_picks

    @property
    def seed_columns(self) -> list[int]:
        """Columns that are seeds (for aggregates); the one column if deterministic."""
        seeds = [i for i, m in enumerate(self.members) if isinstance(m, int)]
        return seeds or [i for i, m in enumerate(self.members) if m != ENSEMBLE]


@dataclass(frozen=True, eq=False)
class SimulatedRun:
    """A finished run in memory: config, data identity, trading period and every result (arrays).

    Not the typed reading model: that is :class:`engine.store.result_schema.RunResult`,
    parsed from :meth:`to_dict`'s output.
    """

    run_id: str
    config: dict[str, Any]
    data: dict[str, Any]
    dates: np.ndarray  # trading period, datetime64[D]
    data_dates: np.ndarray  # all days the strategies saw
    strategies: tuple[StrategyResult, ...]
    benchmarks: tuple[StrategyResult, ...]  # primary first
    notes: tuple[str, ...] = field(default_factory=tuple)
    failures: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (strategy, error) that failed
    evidence: dict[str, Any] = field(default_factory=dict)  # strategy name -> engine.pipeline.evidence block
    calendar: str = ""  # the exchange calendar behind sessions and closes (feeds.exchange_calendar.describe)
    universe: dict[str, Any] | None = None  # --universe: spec, membership data range, coverage per year
    basis: dict[str, Any] = field(
        default_factory=dict
    )  # engine.pipeline.basis.Basis.to_dict: dividends, cash, calendar
    device: str = "cpu"  # the torch device the strategies ran on (strategies.nn.device)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (key order as written to ``metrics.json`` and printed by ``--json``)."""
        primary = self.benchmarks[0]
        bench_cagr = float(primary.metrics.cagr[0])
        start, end = self.dates[0], self.dates[-1]
        days = int((end - start).astype(np.int64))
        return clean(
            {
                "run_id": self.run_id,
                "period": {
                    "start": str(start),
                    "end": str(end),
                    "days": days,
                    "years": days / 365.25,
                    "trading_days": len(self.dates),
                },
                "data": self.data,
                "config": self.config,
                "device": self.device,
                "strategies": [_entry(r, bench_cagr) for r in self.strategies],
                "benchmark": _entry(primary, bench_cagr),
                "benchmarks": [_entry(r, bench_cagr) for r in self.benchmarks],
                "notes": list(self.notes),
                "failed_strategies": [{"name": n, "error": e} for n, e in self.failures],
                "evidence": self.evidence,
                "calendar": self.calendar,
                **({"universe": self.universe} if self.universe else {}),
                "basis": self.basis,
            }
        )


def _scalars(metrics: MetricSet, col: int) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(metrics, name)[col] for name in REPORTED}
    out["yearly"] = {str(y): metrics.yearly[i, col] for i, y in enumerate(metrics.years)}
    out["fees_paid"] = metrics.fees_paid[col]
    out["yearly_fees"] = {str(y): metrics.yearly_fees[i, col] for i, y in enumerate(metrics.years)}
    return out


def _entry(result: StrategyResult, bench_cagr: float) -> dict[str, Any]:
    metrics = result.metrics
    cols = result.seed_columns
    entry: dict[str, Any] = {
        "name": result.name,
        "role": result.role,
        "params": result.params,
        "frequency": result.frequency,
        "stochastic": result.stochastic,
        "tickers": list(result.tickers),
    }
    if result.stochastic:
        # headline figures of a stochastic strategy are means over its seeds
        entry.update(_scalars(metrics.mean_over(cols), 0))
        entry["seeds"] = [{"seed": result.members[c], **_scalars(metrics, c)} for c in cols]
        if ENSEMBLE in result.members:
            entry["ensemble"] = _scalars(metrics, result.members.index(ENSEMBLE))
    else:
        entry.update(_scalars(metrics, cols[0]))
    entry["partial_years"] = metrics.partial_years
    entry["aggregate"] = seed_aggregate(metrics, cols, bench_cagr, stochastic=result.stochastic)
    entry["excess_cagr"] = entry["cagr"] - bench_cagr
    if result.picks is not None:
        entry.update(result.picks)
    return entry


def clean(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN/inf to None, dates to ISO strings."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, np.datetime64)):
        return str(value)
    return value
