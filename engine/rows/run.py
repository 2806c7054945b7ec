"""The rows of one run: names, basis, summary table, per-seed figures, yearly yields, notes, config.

Read from the typed result (:class:`engine.store.result_schema.RunResult`); values are
fractions or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.rows.format import difference, fmt_value
from engine.store.migrations import basis_statement
from engine.store.result_schema import Aggregate, RunResult, Scalars, StrategyEntry, UniverseInfo


# --- names ---------------------------------------
def display_name(entry: StrategyEntry) -> str:
    """A result's name for people: benchmarks say what they hold."""
    if entry.role != "benchmark":
        return entry.name
    if len(entry.tickers) > 1:
        return f"equal-weight buy-and-hold of {len(entry.tickers)} stocks"
    if entry.name == "buy-and-hold" and len(entry.tickers) == 1:
        return f"buy-and-hold {entry.tickers[0]}"
    return entry.name


def seeded(entry: StrategyEntry) -> bool:
    """A stochastic strategy with per-seed results."""
    return bool(entry.stochastic and entry.seeds)


def row_label(entry: StrategyEntry) -> str:
    """The label of an entry's headline figures (seed mean for stochastic strategies)."""
    name = display_name(entry)
    return f"{name} · seed mean ({len(entry.seeds or [])} seeds)" if seeded(entry) else name


def basis_line(result: RunResult) -> str:
    """The one line stating a run's basis (engine.pipeline.basis), printed under every comparison."""
    return basis_statement(result)  # runs stored before bases were tracked: engine.store.migrations


# --- the summary (comparison) table ---------------------------------------
@dataclass(frozen=True)
class SummaryRow:
    """One row of the strategy-vs-benchmark table: an entry's headline figures, or its ensemble's.

    ``excess``: CAGR minus the primary benchmark's (surfaces leave it blank for
    benchmarks); ``spread``: the seed aggregate of a stochastic strategy's headline
    row, else None.
    """

    name: str  # as the run names it
    label: str  # for people (engine.rows.row_label; "NAME · ensemble" for an ensemble row)
    role: str
    primary: bool  # the primary benchmark
    ensemble: bool  # the row of a strategy's ensemble member
    cagr: float | None
    excess: float | None
    spread: Aggregate | None
    sharpe: float | None
    max_drawdown: float | None
    volatility: float | None
    exposure: float | None
    turnover: float | None

    @property
    def benchmark(self) -> bool:
        return self.role == "benchmark"


def _summary_row(
    result: RunResult, entry: StrategyEntry, figures: Scalars, ensemble: bool, spread: Aggregate | None
) -> SummaryRow:
    return SummaryRow(
        name=f"{entry.name} ensemble" if ensemble else entry.name,
        label=f"{display_name(entry)} · ensemble" if ensemble else row_label(entry),
        role=entry.role,
        primary=entry.role == "benchmark" and not ensemble and entry.name == result.benchmark.name,
        ensemble=ensemble,
        cagr=figures.cagr,
        excess=difference(figures.cagr, result.benchmark.cagr),
        spread=spread,
        sharpe=figures.sharpe,
        max_drawdown=figures.max_drawdown,
        volatility=figures.volatility,
        exposure=figures.exposure,
        turnover=figures.turnover,
    )


def summary_rows(result: RunResult) -> list[SummaryRow]:
    """Strategies then benchmarks, each followed by its ensemble's row where it has one."""
    rows = []
    for entry in result.entries:
        rows.append(_summary_row(result, entry, entry, False, entry.aggregate if entry.stochastic else None))
        if entry.ensemble:
            rows.append(_summary_row(result, entry, entry.ensemble, True, None))
    return rows


def seed_counts(result: RunResult) -> list[tuple[str, int]]:
    """(strategy, seeds aggregated) of every stochastic entry: what the table's means are over."""
    return [(e.name, e.aggregate.n_seeds) for e in result.entries if e.stochastic]


# --- per seed ---------------------------------------
@dataclass(frozen=True)
class SeedRow:
    """One seed of a stochastic strategy; ``excess`` over the primary benchmark's CAGR."""

    seed: int | str
    cagr: float | None
    sharpe: float | None
    max_drawdown: float | None
    excess: float | None


def seed_rows(entry: StrategyEntry, bench_cagr: float | None) -> list[SeedRow]:
    """Every seed of ``entry`` (none for a deterministic strategy)."""
    return [
        SeedRow(s.seed, s.cagr, s.sharpe, s.max_drawdown, difference(s.cagr, bench_cagr))
        for s in entry.seeds or []
    ]


def seeded_strategies(result: RunResult) -> list[StrategyEntry]:
    """The strategies that have per-seed results, in run order."""
    return [e for e in result.strategies if e.seeds]


# --- yearly yields ---------------------------------------
@dataclass(frozen=True)
class YearlyColumn:
    """One column of yields per calendar year: year ("2019") -> yield, a fraction."""

    name: str  # as the run names it
    label: str  # for people (row_label, or "NAME · ensemble")
    role: str
    ensemble: bool
    values: dict[str, float | None]


@dataclass(frozen=True)
class Year:
    """A calendar year of the trading period; ``partial`` when the period covers it only in part."""

    year: str
    partial: bool

    @property
    def label(self) -> str:
        return f"{self.year}*" if self.partial else self.year


def years(result: RunResult) -> list[Year]:
    """The calendar years of the trading period, in order (the primary benchmark's)."""
    partial = set(result.benchmark.partial_years)
    return [Year(y, int(y) in partial) for y in result.benchmark.yearly]


def yearly_columns(result: RunResult, *, ensembles: bool = False) -> list[YearlyColumn]:
    """Strategies then benchmarks (a stochastic strategy's: the mean over seeds), with ensembles if asked."""
    out = []
    for entry in result.entries:
        out.append(YearlyColumn(entry.name, row_label(entry), entry.role, False, entry.yearly))
        if ensembles and entry.ensemble:
            out.append(
                YearlyColumn(
                    entry.name, f"{display_name(entry)} · ensemble", entry.role, True, entry.ensemble.yearly
                )
            )
    return out


def union_years(columns: Iterable[YearlyColumn]) -> list[str]:
    """Every year of any column, sorted (columns of several runs side by side)."""
    return sorted({y for c in columns for y in c.values})


# --- the run's heading, notes and universe ---------------------------------------
def warnings(result: RunResult) -> list[str]:
    """Notes that qualify the numbers (implausible results): shown right under them."""
    return [n for n in result.notes if n.startswith("WARNING")]


def other_notes(result: RunResult) -> list[str]:
    """The remaining notes, shown at the end."""
    return [n for n in result.notes if not n.startswith("WARNING")]


def coverage_lines(universe: UniverseInfo) -> list[str]:
    """Per year held: members at the decision close, how many had prices, which were missing."""
    from engine.pipeline.universe_mask import SHOWN_MISSING

    lines = [f"universe {universe.spec}: members with prices at each decision close (year held)"]
    for year, entry in universe.coverage.items():
        missing = entry.missing
        shown = ", ".join(missing[:SHOWN_MISSING]) + (
            f", … (+{len(missing) - SHOWN_MISSING})" if len(missing) > SHOWN_MISSING else ""
        )
        lines.append(
            f"  {year}: {entry.with_prices} of {entry.members} members on {entry.decision_close}"
            + (f"; missing {shown}" if missing else "")
            + (f"; not members: {', '.join(entry.excluded)}" if entry.excluded else "")
        )
    return lines


def _seed_text(seeds: list[int]) -> str:
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"
    return ",".join(str(s) for s in seeds)


def _tickers(tickers: list[str]) -> str:
    return ", ".join(tickers) if len(tickers) <= 3 else f"{len(tickers)} tickers"


def config_lines(result: RunResult) -> list[str]:
    """The exact configuration a run ran with (as stored), as short lines; seeds only where they matter."""
    config, data, period = result.config, result.data, result.period
    stochastic = any(e.stochastic for e in result.strategies)
    dates = f"{config.start or 'first day'} .. {config.end or 'last day'}"
    frequency = config.frequency or (result.strategies[0].frequency if result.strategies else "daily")
    lines = [
        f"data {data.spec} ({_tickers(data.tickers)}, {data.first} .. "
        f"{data.last}) · dates asked {dates} · traded {period.start} .. {period.end} "
        f"({period.years:.1f} years)",
        f"{frequency} signals · costs "
        f"{config.cost_bps:g} bps · slippage {config.slippage_bps:g} bps · execution lag "
        f"{config.execution_lag} · "
        + (f"seeds {_seed_text(list(config.seeds))}" if stochastic else "deterministic (no seeds)"),
    ]
    if config.headlines:
        lines.append(f"headlines {config.headlines} (model {config.headline_model})")
    for entry in result.strategies:
        params = " ".join(f"{k}={fmt_value(v)}" for k, v in entry.params.items())
        lines.append(f"{entry.name}: {params or '(no parameters)'}")
    for failed in result.failed_strategies:
        lines.append(f"{failed.name}: FAILED {failed.error}")
    return lines


def flat_config(result: RunResult) -> dict[str, str]:
    """Every setting of a run as ``key -> text`` (strategy parameters as ``NAME.param``)."""
    stored = result.config.model_dump(mode="json")  # the settings as metrics.json holds them
    out = {k: fmt_value(v) for k, v in stored.items() if k != "strategies" and v not in (None, (), [])}
    for entry in result.strategies:
        for k, v in entry.params.items():
            out[f"{entry.name}.{k}"] = fmt_value(v)
    out["traded"] = f"{result.period.start}..{result.period.end}"
    return out
