"""The rows of several runs: the stored-runs listing, runs side by side, the headline ablation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.rows.format import difference
from engine.rows.run import YearlyColumn, basis_line, yearly_columns
from engine.store.result_schema import RunResult


# --- stored runs ---------------------------------------
@dataclass(frozen=True)
class RunsRow:
    """A stored run in the listing (figures as the manifest's headline holds them, already text)."""

    run_id: str
    status: str
    error: str
    data: str  # the data spec, a file path shortened to its name
    strategies: list[str]
    period: str
    cagr: str
    benchmark_cagr: str


def short_data(spec: str) -> str:
    """A data spec with a csv/parquet path shortened to the file's name."""
    scheme, sep, target = spec.partition(":")
    return f"{scheme}:{target.rsplit('/', 1)[-1]}" if sep and scheme in ("csv", "parquet") else spec


def runs_rows(infos: Iterable[Any]) -> list[RunsRow]:
    """One row per stored run (``engine.store.run_store.RunInfo``), in the order given (newest first)."""
    rows = []
    for info in infos:
        m = info.manifest  # the store's manifest (not a run's JSON form): status, config, headline
        headline = m.get("headline", {})
        rows.append(
            RunsRow(
                run_id=info.run_id,
                status=info.status,
                error=info.error or "",
                data=short_data(str(m.get("config", {}).get("data", ""))),
                strategies=list(m.get("strategies", [])),
                period=headline.get("period", ""),
                cagr=headline.get("cagr", ""),
                benchmark_cagr=headline.get("benchmark_cagr", ""),
            )
        )
    return rows


# --- several runs ---------------------------------------
@dataclass(frozen=True)
class CompareRow:
    """A strategy or benchmark of one run, beside those of other runs (each over its own period)."""

    run_id: str
    name: str
    role: str
    start: str
    end: str
    stochastic: bool
    cagr: float | None
    cagr_std: float | None  # over seeds (0 for a deterministic entry)
    sharpe: float | None
    max_drawdown: float | None
    excess: float | None  # over the run's primary benchmark; None for benchmarks
    cost_bps: float

    @property
    def period(self) -> str:
        return f"{self.start}..{self.end}"


def compare_rows(results: Sequence[RunResult]) -> list[CompareRow]:
    """Every entry of every run, runs in the order given."""
    return [
        CompareRow(
            run_id=r.run_id,
            name=e.name,
            role=e.role,
            start=r.period.start,
            end=r.period.end,
            stochastic=e.stochastic,
            cagr=e.cagr,
            cagr_std=e.aggregate.cagr_std,
            sharpe=e.sharpe,
            max_drawdown=e.max_drawdown,
            excess=e.excess_cagr if e.role != "benchmark" else None,
            cost_bps=r.config.cost_bps,
        )
        for r in results
        for e in r.entries
    ]


def run_tag(result: RunResult) -> str:
    """A short name of a run beside others: its label, else the id's last six characters."""
    return result.label or result.run_id[-6:]


def compare_yearly_columns(results: Sequence[RunResult], *, dashboard: bool = False) -> list[YearlyColumn]:
    """Yearly columns of several runs, each named ``TAG NAME``.

    Terminal (default): the id's last six characters and the entry's name; dashboard:
    the run's label (else the id's tail) and the people's label, ensembles included.
    """
    out = []
    for r in results:
        tag = run_tag(r) if dashboard else r.run_id[-6:]
        for c in yearly_columns(r, ensembles=dashboard):
            out.append(
                YearlyColumn(
                    c.name, f"{tag} {c.label if dashboard else c.name}", c.role, c.ensemble, c.values
                )
            )
    return out


def basis_lines(results: Sequence[RunResult]) -> list[str]:
    """One basis line per run, for under a comparison of several runs."""
    return [f"{r.run_id}: {basis_line(r)}" for r in results]


# --- headlines ablation ---------------------------------------
@dataclass(frozen=True)
class AblationRow:
    """A strategy and seed's CAGR with and without headlines (same seeds and period)."""

    strategy: str
    seed: int | str  # "-" for a deterministic strategy
    with_: float | None
    without: float | None

    @property
    def difference(self) -> float | None:
        return difference(self.with_, self.without)

    def to_dict(self) -> dict[str, Any]:
        """The form ``backtest run --ablate-headlines --json`` prints."""
        return {
            "strategy": self.strategy,
            "seed": self.seed,
            "with": self.with_,
            "without": self.without,
            "difference": self.difference,
        }


def ablation_rows(with_result: RunResult, without_result: RunResult) -> list[AblationRow]:
    """Per strategy and seed of ``with_result`` that ``without_result`` also ran."""
    rows = []
    others = {e.name: e for e in without_result.strategies}
    for entry in with_result.strategies:
        other = others.get(entry.name)
        if other is None:
            continue
        if entry.seeds:
            pairs = [(s.seed, s.cagr, o.cagr) for s, o in zip(entry.seeds, other.seeds or [], strict=True)]
        else:
            pairs = [("-", entry.cagr, other.cagr)]
        rows.extend(AblationRow(entry.name, seed, a, b) for seed, a, b in pairs)
    return rows


@dataclass(frozen=True)
class AblationSummary:
    mean: float
    std: float  # sample standard deviation over the rows (0 with one)
    helped: int  # rows where headlines raised the CAGR
    n: int


def ablation_summary(rows: Sequence[AblationRow]) -> AblationSummary | None:
    """Mean and spread of the differences; None when no difference is defined."""
    diffs = [d for r in rows if (d := r.difference) is not None]
    if not diffs:
        return None
    return AblationSummary(
        mean=float(np.mean(diffs)),
        std=float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0,
        helped=sum(d > 0 for d in diffs),
        n=len(diffs),
    )
