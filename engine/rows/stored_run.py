"""A stored run for notebooks and scripts: its typed result, and its tables as polars frames.

:class:`Run` is what ``engine.run`` and ``engine.load`` return (``engine.api``, the door).
Units: fractions throughout (0.1 = 10%); equity starts at 1. Timing: a weight dated day t
was decided at t's close from data known by then and fills at the close
``execution_lag`` days later (engine.pipeline.timing). ``.to_pandas()`` turns any frame
into pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from engine.pipeline.results import REPORTED, SimulatedRun
from engine.rows.run import yearly_columns, years
from engine.store.result_schema import RunResult, parse_result
from engine.store.run_store import RunStore


@dataclass(frozen=True, eq=False)
class Run:
    """A stored, complete run: its typed result plus the frames stored beside it.

    ``result`` is the run as typed objects (:class:`engine.store.result_schema.RunResult`:
    ``run.result.strategies[0].cagr``), read from ``payload``, its JSON form
    (``metrics.json``, what ``--json`` prints, key order included);
    ``simulated`` the in-memory :class:`engine.pipeline.results.SimulatedRun` (arrays
    included) when this process ran it, else ``None``.
    """

    run_id: str
    path: Path
    payload: dict[str, Any] = field(repr=False)
    simulated: SimulatedRun | None = field(default=None, repr=False)

    @cached_property
    def result(self) -> RunResult:
        """The run as typed objects: ``run.result.strategies[0].cagr``, ``run.result.period.start``."""
        return parse_result(self.payload)

    @property
    def failed(self) -> dict[str, str]:
        """Strategies that failed in this run (name -> error); the others ran."""
        return {f.name: f.error for f in self.result.failed_strategies}

    def to_dict(self) -> dict[str, Any]:
        """The run's JSON form, as ``backtest show RUN --json`` prints it."""
        return self.payload

    def summary(self) -> pl.DataFrame:
        """One row per strategy and benchmark: the scalar metrics (engine.pipeline.metrics), fractions.

        Columns: name, role, stochastic, the metrics in report order, excess_cagr
        (over the primary benchmark), cagr_std (over seeds; 0 when deterministic).
        A stochastic strategy's figures are means over its seeds, as in ``backtest show``.
        """
        rows = [
            {
                "name": e.name,
                "role": e.role,
                "stochastic": e.stochastic,
                **{m: _float(getattr(e, m)) for m in REPORTED},
                "excess_cagr": _float(e.excess_cagr),
                "cagr_std": _float(e.aggregate.cagr_std),
            }
            for e in self.result.entries
        ]
        return pl.DataFrame(rows, schema=_summary_schema(), orient="row")

    def yearly(self) -> pl.DataFrame:
        """Yield per calendar year: column ``year`` (int), ``partial`` (bool), one column per strategy.

        Strategy columns in the order ``backtest show`` prints them (strategies, then
        benchmarks); values are fractions, a stochastic strategy's the mean over its
        seeds; ``partial`` marks a year the trading period covers only in part.
        """
        found_years = years(self.result)
        columns: dict[str, Any] = {
            "year": pl.Series([int(y.year) for y in found_years], dtype=pl.Int32),
            "partial": pl.Series([y.partial for y in found_years], dtype=pl.Boolean),
        }
        for c in yearly_columns(self.result):
            columns[c.name] = pl.Series([_float(c.values.get(y.year)) for y in found_years], dtype=pl.Float64)
        return pl.DataFrame(columns)

    def seeds(self) -> pl.DataFrame:
        """One row per seed (and ensemble) of each stochastic strategy: strategy, seed, metrics."""
        found = []
        for e in self.result.strategies:
            members: list[tuple[str, Any]] = [(str(s.seed), s) for s in e.seeds or []]
            if e.ensemble:
                members.append(("ensemble", e.ensemble))
            for seed, figures in members:
                found.append(
                    {"strategy": e.name, "seed": seed, **{m: _float(getattr(figures, m)) for m in REPORTED}}
                )
        schema = {"strategy": pl.String, "seed": pl.String, **dict.fromkeys(REPORTED, pl.Float64)}
        return pl.DataFrame(found, schema=schema, orient="row")

    def evidence(self) -> pl.DataFrame:
        """One row per strategy: is its excess CAGR over the primary benchmark more than luck?

        Columns: strategy, mean_excess_cagr with its bootstrap 95% interval
        (ci95_low, ci95_high), p_mean_excess_positive, share_seeds_beating,
        paired_t_p (null with fewer than two seeds), best_seed with its cagr, psr,
        dsr and trials, verdict (engine.pipeline.evidence). Fractions.
        """
        found = []
        for name, ev in self.result.evidence.items():
            low, high = [*ev.mean_excess_ci95, None, None][:2]
            best = ev.best_seed
            found.append(
                {
                    "strategy": name,
                    "mean_excess_cagr": _float(ev.mean_excess_cagr),
                    "ci95_low": _float(low),
                    "ci95_high": _float(high),
                    "p_mean_excess_positive": _float(ev.p_mean_excess_positive),
                    "share_seeds_beating": _float(ev.share_seeds_beating),
                    "paired_t_p": _float(ev.paired_t.p_value if ev.paired_t else None),
                    "best_seed": str(best.seed),
                    "best_seed_cagr": _float(best.cagr),
                    "psr": _float(best.psr),
                    "dsr": _float(best.dsr),
                    "trials": best.trials,
                    "verdict": best.verdict,
                }
            )
        return pl.DataFrame(found, schema=_EVIDENCE_SCHEMA, orient="row")

    def equity(self) -> pl.DataFrame:
        """Equity at each close of the trading period: date, strategy, role, member, equity (from 1)."""
        return RunStore(self.path.parent).load_equity(self.run_id)

    def weights(self) -> pl.DataFrame:
        """Target weights on decision rows: date, strategy, role, member, ticker, weight.

        A row dated t was decided at t's close; it fills ``execution_lag`` closes later (an order
        that would fill on the data's last close is kept here but not traded).
        """
        return RunStore(self.path.parent).load_weights(self.run_id)


_EVIDENCE_SCHEMA: dict[str, Any] = {
    "strategy": pl.String,
    "mean_excess_cagr": pl.Float64,
    "ci95_low": pl.Float64,
    "ci95_high": pl.Float64,
    "p_mean_excess_positive": pl.Float64,
    "share_seeds_beating": pl.Float64,
    "paired_t_p": pl.Float64,
    "best_seed": pl.String,
    "best_seed_cagr": pl.Float64,
    "psr": pl.Float64,
    "dsr": pl.Float64,
    "trials": pl.Int64,
    "verdict": pl.String,
}


def _summary_schema() -> dict[str, Any]:
    return {
        "name": pl.String,
        "role": pl.String,
        "stochastic": pl.Boolean,
        **dict.fromkeys(REPORTED, pl.Float64),
        "excess_cagr": pl.Float64,
        "cagr_std": pl.Float64,
    }


def _float(value: Any) -> float | None:
    # the JSON form writes undefined metrics as null; frames hold them as null too
    return None if value is None else float(value)
