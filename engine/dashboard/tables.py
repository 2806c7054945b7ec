"""The dashboard's tables of stored runs: rows of numbers for interactive tables.

The rows of :mod:`engine.rows` as dicts (figures in %, rounded; None where a figure
does not apply, shown as "—"); the terminal report formats the same rows. Also the
run's configuration lines, the settings that differ between runs, and the basis
and evidence text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import rows
from engine.api import DAYS_PER_YEAR, RunResult, StrategyEntry, UniverseInfo
from engine.dashboard.series import Loaded, compare_series, drawdown
from engine.rows import NA, percent, rounded


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


SEED_COLUMNS = ("± std %", "worst %", "best %", "seeds beating benchmark %")


def without_empty_seed_columns(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``table`` (rows of :func:`metrics_rows`) without the seed-spread columns when no row has seeds
    (a deterministic run: four columns of "—" say nothing)."""
    if any(row.get(c) is not None for row in table for c in SEED_COLUMNS):
        return table
    return [{k: v for k, v in row.items() if k not in SEED_COLUMNS} for row in table]


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


def yearly_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per calendar year (``2022*`` when partial): the yield in % of each column of the yearly chart."""
    columns = rows.yearly_columns(result, ensembles=True)
    return [
        {"year": y.label, **{c.label: percent(c.values.get(y.year)) for c in columns}}
        for y in rows.years(result)
    ]


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


def compare_metric_rows(loaded: Loaded) -> list[dict[str, Any]]:
    """Key figures of each run over the common period of :func:`compare_series` and over its own period."""
    start, items = compare_series(loaded)
    found = []
    for s in items:
        years = (s.dates[-1] - s.dates[0]).astype(np.int64) / DAYS_PER_YEAR
        cagr = s.values[-1] ** (1 / years) - 1 if years > 0 else None
        found.append(
            {
                "run": s.run,
                "curve": s.label,
                "role": s.role,
                f"CAGR % from {start}": percent(cagr),
                "max DD % (same span)": percent(float(drawdown(s.values).min())),
                "span": f"{s.dates[0]}..{s.dates[-1]}",
            }
        )
    return found


def compare_yearly_rows(results: list[RunResult]) -> list[dict[str, Any]]:
    """Per calendar year of any run: the yield in % of every column of every run, side by side."""
    columns = rows.compare_yearly_columns(results, dashboard=True)
    return [
        {"year": y, **{c.label: percent(c.values.get(y)) for c in columns}} for y in rows.union_years(columns)
    ]


def basis_text(result: RunResult) -> str:
    """The run's one-line basis statement (dividends, cash rate, calendar), as every surface prints it."""
    return rows.basis_line(result)


def evidence_text(result: RunResult) -> list[str]:
    """The evidence block of ``backtest show`` as plain lines (:func:`engine.rows.evidence_lines`)."""
    return [line.plain for line in rows.evidence_lines(result)]
