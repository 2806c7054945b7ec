"""The rows of a sweep: one per cell, deflated for the trials of the whole sweep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.pipeline.evidence import sweep_deflation
from engine.store.result_schema import parse_result
from engine.store.run_store import BROKEN, COMPLETE, FAILED, RunStore
from feeds.errors import InputError

_FIGURES = (
    "strategy", "cagr_mean", "cagr_std", "share_beating", "sharpe_mean", "benchmark_cagr", "seeds", "period"
)  # fmt: skip
_DEFLATION = ("best_excess_sharpe_annual", "psr", "dsr", "trials")


@dataclass
class SweepRow:
    """One cell of a sweep.

    Every row has cell, run, status; a failed or broken one has error; a complete
    one the figures of its first strategy (fractions) and, for its best seed, the
    PSR and DSR of its daily returns in excess of the primary benchmark, deflated
    for ``trials`` (every seed of every complete cell; computed by
    :func:`engine.pipeline.evidence.sweep_deflation`, best = highest CAGR). What does not
    apply is None.
    """

    cell: str
    run: str
    status: str
    error: str | None = None
    strategy: str | None = None
    cagr_mean: float | None = None
    cagr_std: float | None = None
    share_beating: float | None = None
    sharpe_mean: float | None = None
    benchmark_cagr: float | None = None
    seeds: int | None = None
    period: str | None = None
    best_excess_sharpe_annual: float | None = None
    psr: float | None = None
    dsr: float | None = None
    trials: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The row as ``backtest sweep-report --json`` prints it: only the keys that apply to it."""
        keys = ["cell", "run", "status"]
        if self.status != COMPLETE:
            keys.append("error")
        if self.strategy is not None:
            keys.extend(_FIGURES)
        if self.trials is not None:
            keys.extend(_DEFLATION)
        return {key: getattr(self, key) for key in keys}


def sweep_rows(store: RunStore, sweep_id: str) -> list[SweepRow]:
    """One row per cell of ``sweep_id`` (complete and failed runs; the newest run of a cell wins).

    Complete cells first, by mean CAGR over seeds (best first). Read from the store
    only (the runs tagged with the sweep id), each run through its full check.
    """
    infos = [i for i in store.list() if i.manifest.get("sweep") == sweep_id]
    if not infos:
        raise InputError(f"no runs of sweep {sweep_id!r} in {store.root}")
    latest: dict[str, Any] = {}
    for info in infos:  # newest first
        cell = info.manifest.get("cell", info.run_id)
        if cell not in latest or (latest[cell].status != COMPLETE and info.status == COMPLETE):
            latest[cell] = info
    found: list[SweepRow] = []
    curves_of: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # row index -> (seed curves, benchmark curve)
    for info in latest.values():
        row = SweepRow(cell=info.manifest.get("cell_label", ""), run=info.run_id, status=info.status)
        if info.status != COMPLETE:
            row.error = info.error
            found.append(row)
            continue
        try:
            _, payload = store.load_metrics(info.run_id)  # the full check of the run's files
            equity = store.load_equity(info.run_id)
        except InputError as exc:
            row.status, row.error = BROKEN, str(exc)
            found.append(row)
            continue
        result = parse_result(payload)
        if not result.strategies:
            row.status, row.error = FAILED, info.error
            found.append(row)
            continue
        entry = result.strategies[0]
        agg = entry.aggregate
        row.strategy = entry.name
        row.cagr_mean, row.cagr_std = agg.cagr_mean, agg.cagr_std
        row.share_beating, row.sharpe_mean = agg.share_beating_benchmark, agg.sharpe_mean
        row.benchmark_cagr = result.benchmark.cagr
        row.seeds = agg.n_seeds or 1
        row.period = f"{result.period.start}..{result.period.end}"
        curves_of[len(found)] = _curves(equity, entry.name)
        found.append(row)
    for i, figures in zip(curves_of, sweep_deflation(list(curves_of.values())), strict=True):
        row = found[i]
        row.best_excess_sharpe_annual, row.psr = figures["excess_sharpe_annual"], figures["psr"]
        row.dsr, row.trials = figures["dsr"], figures["trials"]
    found.sort(key=lambda r: (r.status != COMPLETE, -(r.cagr_mean or -1e9)))
    return found


def _curves(equity: pl.DataFrame, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    # the seed curves (days, seeds) of ``strategy`` and the primary benchmark's (the first stored)
    bench = equity.filter(pl.col("role") == "benchmark")
    bench = bench.filter(pl.col("strategy") == bench["strategy"][0])["equity"].to_numpy()
    mine = equity.filter(
        (pl.col("role") == "strategy") & (pl.col("strategy") == strategy) & (pl.col("member") != "ensemble")
    )
    members = mine["member"].unique(maintain_order=True).to_list()
    return np.column_stack([mine.filter(pl.col("member") == m)["equity"].to_numpy() for m in members]), bench
