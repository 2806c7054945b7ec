"""The rows every surface formats a run from: tables and lines as typed values, no markup.

Read from the typed result (:class:`engine.result_schema.RunResult`); the terminal
report (rich), the dashboard (plotly/streamlit) and the sweep report format these
rows and nothing else, so they show the same figures under the same names. Values
are fractions (0.1 = 10%) or ``None`` where a figure is undefined or does not
apply; the formatting helpers :func:`pct`, :func:`num` (text) and :func:`percent`
(a rounded number for interactive tables) live here so every surface formats alike.
No rich, plotly or streamlit here (the pipeline's rule): text lines are plain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

import numpy as np
import polars as pl

from engine.evidence import daily_returns, deflated_sharpe, probabilistic_sharpe, sharpe_moments
from engine.result_schema import Aggregate, RunResult, Scalars, StrategyEntry, UniverseInfo, parse_result
from engine.store import BROKEN, COMPLETE, FAILED, RunStore
from feeds.errors import InputError

NA = "—"  # a figure that is undefined or does not apply

LEGACY_BASIS = (
    "basis: not recorded (run stored before bases were tracked): prices as given "
    "(the S&P 500 index without dividends), cash earning 0%"
)


# --- formatting, shared by every surface ---------------------------------------
def pct(value: float | None, signed: bool = False, digits: int = 2) -> str:
    """A fraction as a percentage (0.1049 -> '10.49%'); '—' when undefined."""
    if value is None:
        return NA
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals; '—' when undefined."""
    return NA if value is None else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 2) -> float | None:
    """A fraction as a rounded percentage number (0.1049 -> 10.49); None stays None."""
    return None if value is None else round(value * 100, digits)


def rounded(value: float | None, digits: int = 2) -> float | None:
    """A number rounded for an interactive table; None stays None."""
    return None if value is None else round(value, digits)


def difference(a: float | None, b: float | None) -> float | None:
    """``a - b``, None when either is undefined."""
    return None if a is None or b is None else a - b


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
    """The one line stating a run's basis (engine.basis), printed under every comparison."""
    return (result.basis.statement if result.basis else "") or LEGACY_BASIS


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


# --- picks of annual strategies ---------------------------------------
@dataclass(frozen=True)
class PicksYear:
    """A year held: tickers picked, share beating the universe's median, most picked over seeds."""

    year: str
    tickers: list[str]
    beat_median: float | None
    by_seed: list[tuple[str, int]]  # (ticker, seeds that picked it), most picked first; [] without seeds


@dataclass(frozen=True)
class Picks:
    """An annual strategy's picks table and its caption figures."""

    strategy: str
    member: str  # whose picks: "ensemble", "seed N", or "" for a deterministic strategy
    years: list[PicksYear]
    with_seeds: bool  # the per-seed counts exist
    share: float | None  # share of picks beating the median over every year
    share_mean_over_seeds: float | None


def picks(entry: StrategyEntry, *, most_picked: int = 6) -> Picks | None:
    """The picks of an annual strategy per year held; None for a strategy without picks."""
    if not entry.picks:
        return None
    member = "ensemble" if entry.ensemble else (f"seed {entry.seeds[0].seed}" if entry.seeds else "")
    by_seed = entry.picks_by_seed or {}
    beat = entry.picks_beat_median
    by_year = beat.by_year if beat else {}
    return Picks(
        strategy=entry.name,
        member=member,
        years=[
            PicksYear(year, tickers, by_year.get(year), list(by_seed.get(year, {}).items())[:most_picked])
            for year, tickers in entry.picks.items()
        ],
        with_seeds=bool(by_seed),
        share=beat.share if beat else None,
        share_mean_over_seeds=beat.share_mean_over_seeds if beat else None,
    )


@dataclass(frozen=True)
class PickRow:
    """One pick in a year held and how it did against the universe's median stock."""

    year: str
    ticker: str
    ret: float | None
    median: float | None

    @property
    def beat(self) -> bool | None:
        return None if self.ret is None or self.median is None else self.ret > self.median


def pick_rows(entry: StrategyEntry) -> list[PickRow]:
    """Annual strategies: every pick of every year held (none for other strategies)."""
    returns = entry.pick_returns or {}
    medians = entry.universe_median_return or {}
    return [
        PickRow(year, ticker, returns.get(year, {}).get(ticker), medians.get(year))
        for year, tickers in (entry.picks or {}).items()
        for ticker in tickers
    ]


# --- evidence ---------------------------------------
@dataclass(frozen=True)
class Line:
    """A plain text line; ``kind`` says how a surface may stress it.

    ``heading``: ``head`` is the stressed part, ``text`` follows it; ``note``: a
    muted line (method, basis); ``text``: the body.
    """

    text: str
    kind: Literal["heading", "text", "note"] = "text"
    head: str = ""

    @property
    def plain(self) -> str:
        return self.head + self.text


def evidence_lines(result: RunResult) -> list[Line]:
    """The short 'is it a fluke?' block under the comparison table (see engine.evidence)."""
    if not result.evidence:
        return []
    lines = [Line(" (same days; daily returns)", "heading", f"Evidence vs {result.benchmark.name}")]
    for name, ev in result.evidence.items():
        # any figure can be undefined (None), e.g. PSR when the excess returns never vary
        # (a strategy that is buy-and-hold): printed as '—'
        low, high = ([*ev.mean_excess_ci95, None, None])[:2]
        seeds = len(ev.excess_cagr_by_seed)
        text = (
            f"  {name}: mean excess CAGR {pct(ev.mean_excess_cagr, True)}, 95% CI "
            f"[{pct(low, True)}, {pct(high, True)}], P(excess > 0) {num(ev.p_mean_excess_positive)}"
        )
        if seeds > 1:
            text += f"; {pct(ev.share_seeds_beating, digits=0)} of {seeds} seeds beat it"
            if ev.paired_t is not None:
                text += f" (paired t across seeds p = {num(ev.paired_t.p_value, 3)})"
        lines.append(Line(text))
        best = ev.best_seed
        who = f"best seed {best.seed}" if seeds > 1 else "its"
        lines.append(
            Line(
                f"    {who}: excess Sharpe {num(best.excess_sharpe_annual)}/yr, "
                f"PSR {num(best.psr)}, "
                f"DSR {num(best.dsr)} over {best.trials} trial(s) (chance alone reaches Sharpe "
                f"{num(best.expected_max_sharpe_annual)}): {best.verdict or NA}"
            )
        )
        ranks = ev.regression_to_mean
        if ranks and ranks.rank_correlation is not None:
            lines.append(
                Line(
                    f"    seed ranks, first vs second half: Spearman {ranks.rank_correlation:+.2f}; the best "
                    f"first-half seed ranks {ranks.best_first_fold_rank_later} of {seeds} in the second"
                )
            )
    first = next(iter(result.evidence.values()))
    lines.append(Line(f"  method: {first.method}", "note"))
    lines.append(Line(f"  {basis_line(result)}", "note"))
    return lines


# --- the run's heading, notes and universe ---------------------------------------
def warnings(result: RunResult) -> list[str]:
    """Notes that qualify the numbers (implausible results): shown right under them."""
    return [n for n in result.notes if n.startswith("WARNING")]


def other_notes(result: RunResult) -> list[str]:
    """The remaining notes, shown at the end."""
    return [n for n in result.notes if not n.startswith("WARNING")]


def coverage_lines(universe: UniverseInfo) -> list[str]:
    """Per year held: members at the decision close, how many had prices, which were missing."""
    from engine.universe import SHOWN_MISSING

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
    """One row per stored run (``engine.store.RunInfo``), in the order given (the store's: newest first)."""
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


# --- sweeps ------------------------------------------------------------------------------------
class SweepRow(TypedDict, total=False):
    """One cell of a sweep (``backtest sweep-report --json`` prints these as they are).

    Every row has cell, run, status; a failed or broken one adds error; a complete
    one the figures of its first strategy (fractions) and, for its best seed, the
    PSR and DSR of its daily returns in excess of the primary benchmark, deflated
    for ``trials`` (every seed of every complete cell).
    """

    cell: str
    run: str
    status: str
    error: str
    strategy: str
    cagr_mean: float | None
    cagr_std: float | None
    share_beating: float | None
    sharpe_mean: float | None
    benchmark_cagr: float | None
    seeds: int
    period: str
    best_excess_sharpe_annual: float
    psr: float | None
    dsr: float | None
    trials: int


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
    excess_of: dict[int, np.ndarray] = {}  # row index -> (days, seeds) daily excess over the benchmark
    for info in latest.values():
        row = SweepRow(cell=info.manifest.get("cell_label", ""), run=info.run_id, status=info.status)
        if info.status != COMPLETE:
            row["error"] = info.error
            found.append(row)
            continue
        try:
            _, payload = store.load_metrics(info.run_id)  # the full check of the run's files
            equity = store.load_equity(info.run_id)
        except InputError as exc:
            row.update(status=BROKEN, error=str(exc))
            found.append(row)
            continue
        result = parse_result(payload)
        if not result.strategies:
            row.update(status=FAILED, error=info.error)
            found.append(row)
            continue
        entry = result.strategies[0]
        agg = entry.aggregate
        row.update(
            strategy=entry.name,
            cagr_mean=agg.cagr_mean,
            cagr_std=agg.cagr_std,
            share_beating=agg.share_beating_benchmark,
            sharpe_mean=agg.sharpe_mean,
            benchmark_cagr=result.benchmark.cagr,
            seeds=agg.n_seeds or 1,
            period=f"{result.period.start}..{result.period.end}",
        )
        excess_of[len(found)] = _excess(equity)
        found.append(row)
    _deflate(found, excess_of)
    found.sort(key=lambda r: (r["status"] != COMPLETE, -(r.get("cagr_mean") or -1e9)))
    return found


def _deflate(found: list[SweepRow], excess_of: dict[int, np.ndarray]) -> None:
    # each complete cell's best seed: PSR, and DSR over every seed of every cell as the trials
    sharpes = [sharpe_moments(e[:, j])[0] for e in excess_of.values() for j in range(e.shape[1])]
    trials = len(sharpes)
    variance = float(np.var(sharpes, ddof=1)) if trials >= 2 else 0.0
    for i, excess in excess_of.items():
        best = int(np.argmax(excess.mean(axis=0) / np.maximum(excess.std(axis=0, ddof=1), 1e-300)))
        sr, skew, kurt = sharpe_moments(excess[:, best])
        n = len(excess)
        found[i].update(
            best_excess_sharpe_annual=sr * math.sqrt(252),
            psr=probabilistic_sharpe(sr, n, skew, kurt),
            dsr=deflated_sharpe(sr, n, skew, kurt, trials, variance),
            trials=trials,
        )


def _excess(equity: pl.DataFrame) -> np.ndarray:
    # each seed's daily returns minus the primary benchmark's (the first benchmark stored)
    bench = equity.filter(pl.col("role") == "benchmark")
    bench = bench.filter(pl.col("strategy") == bench["strategy"][0])["equity"].to_numpy()
    mine = equity.filter((pl.col("role") == "strategy") & (pl.col("member") != "ensemble"))
    members = mine["member"].unique(maintain_order=True).to_list()
    curves = np.column_stack([mine.filter(pl.col("member") == m)["equity"].to_numpy() for m in members])
    return daily_returns(curves) - daily_returns(bench[:, None])


# --- a run's configuration ---------------------------------------
def fmt_value(value: Any) -> str:
    """A setting as short text (floats without trailing zeros, lists comma-joined)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(fmt_value(v) for v in value)
    return str(value)


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
