"""Running a backtest: data -> strategies -> common trading period -> simulation -> metrics.

:func:`engine.pipeline.prepare.prepare` resolves a :class:`RunConfig` against its data;
``execute`` is the whole pipeline for it, as named steps (drive, trading period, measure,
evidence, notes, assemble); :func:`engine.workflows.record.run_and_store` stores the result
(the pipeline itself never touches the store).
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.pipeline import timing
from engine.pipeline.basis import Basis
from engine.pipeline.checkpoint import Checkpoint, PastChanged
from engine.pipeline.drive import Resume, StrategyTargets, generate_targets
from engine.pipeline.identity import data_identity
from engine.pipeline.metrics import compute_metrics
from engine.pipeline.picks import annual_picks
from engine.pipeline.plausibility import flag_run
from engine.pipeline.prepare import Prepared, run_device_of
from engine.pipeline.progress import Progress
from engine.pipeline.results import SimulatedRun, StrategyResult
from engine.pipeline.simulate import Costs, simulate
from feeds.errors import InputError
from feeds.exchange_calendar import describe as describe_calendar
from feeds.market import Market
from strategies.base import Strategy
from strategies.baselines import BuyAndHold
from strategies.errors import StrategyError


def _resume_point(label: str, checkpoint: Checkpoint, market: Market) -> Resume:
    """Check that ``market`` extends the data the checkpoint was computed on."""
    last = checkpoint.last_day
    if last >= market.n_days or str(market.dates[last]) != checkpoint.last_date:
        raise InputError(
            f"strategy {label}: the data do not contain the checkpoint's last day {checkpoint.last_date} "
            f"at the same position; run afresh instead of updating"
        )
    seen = market.head(last + 1)
    if seen.fingerprint() != checkpoint.data_fingerprint:
        first = first_changed_day(seen, checkpoint)
        where = f", first on {first}" if first is not None else ""
        raise PastChanged(
            f"strategy {label}: the data up to {checkpoint.last_date} differ from those the run was "
            f"computed on{where} (revised prices, or adjusted closes rescaled by a new dividend or split?); "
            "run afresh instead of updating",
            first,
        )
    return Resume(checkpoint.state, last + 1, checkpoint.targets)


def first_changed_day(seen: Market, checkpoint: Checkpoint) -> str | None:
    """The first day of ``seen`` (the data up to the checkpoint's last day) whose row differs, if known."""
    if checkpoint.day_digests is None:
        return None
    now = seen.day_digests()
    differs = np.flatnonzero(now != checkpoint.day_digests)
    return str(seen.dates[differs[0]]) if len(differs) else None


@dataclass(frozen=True)
class Driven:
    """A strategy or benchmark driven over the days: its targets and the market it trades."""

    strategy: Strategy
    targets: StrategyTargets
    role: str  # "strategy" or "benchmark"
    market: Market


@dataclass(frozen=True)
class TradingPeriod:
    """The common trading period: rows ``start:`` of the data, from the first close on which
    every strategy has decided (``starts``: each strategy's first decision row)."""

    start: int
    dates: np.ndarray  # datetime64[D], the market's dates from row ``start``
    starts: dict[str, int]


def execute(
    prepared: Prepared,
    *,
    run_id: str = "",
    progress: Progress | None = None,
    resume: dict[str, Checkpoint] | None = None,
) -> SimulatedRun:
    """Generate, align, simulate and measure every strategy and benchmark.

    The steps, in order: drive the strategies (:func:`drive_strategies`) and the
    benchmarks (:func:`drive_benchmarks`), find the common trading period
    (:func:`trading_period`), simulate and measure each (:func:`measure`), the
    evidence against the primary benchmark, the run's notes (:func:`run_notes`),
    and the result (:func:`assemble`). ``resume`` maps strategy labels to
    checkpoints of an earlier run over a prefix of the same data: those strategies
    continue from there (``backtest update``).
    """
    with run_strategies_on(prepared.config.device):  # strategies read the device; a GPU's cache emptied after
        strategies, failures = drive_strategies(prepared, progress, resume or {})
    benchmarks = drive_benchmarks(prepared)
    period = trading_period(prepared.market, strategies)
    strategy_results, bench_results = measure(prepared, period, strategies, benchmarks, progress)
    if progress:
        progress("evidence", 0, 1)
    evidence = _evidence(strategy_results, bench_results[0], period.dates)
    notes = run_notes(prepared, period, strategy_results, evidence, failures)
    return assemble(prepared, run_id, period, strategy_results, bench_results, notes, failures, evidence)


def run_strategies_on(device: str) -> contextlib.AbstractContextManager[Any]:
    """The strategies' device context (:func:`strategies.nn.device.run_device`) for the setting ``device``;
    nothing on a CPU run without torch. ``auto`` without torch is resolved when a strategy first asks
    (the compiled LSTM asks without importing torch where no GPU can be)."""
    if device == "cpu" and "torch" not in sys.modules:
        return contextlib.nullcontext()
    from strategies.nn.device import run_device

    return run_device(device)


def drive_strategies(
    prepared: Prepared, progress: Progress | None, resume: dict[str, Checkpoint]
) -> tuple[list[Driven], list[tuple[str, str]]]:
    """Each strategy's checked targets over every day of the data, and (label, error) of those that failed.

    A strategy raising :class:`StrategyError` is recorded and the others go on; when
    every strategy failed, the run fails with all the messages. Progress: each
    strategy's label, in days driven.
    """
    config, market = prepared.config, prepared.market
    driven: list[Driven] = []
    failures: list[tuple[str, str]] = []
    for strategy in prepared.strategies:
        label = strategy.label()
        try:
            targets = generate_targets(
                strategy,
                market,
                tuple(config.seeds),
                max_leverage=config.max_leverage,
                progress=progress,
                resume=_resume_point(label, resume[label], market) if label in resume else None,
            )
        except StrategyError as exc:
            # one broken strategy (a plugin, say) must not take the others down: record it, go on
            failures.append((label, str(exc)))
            continue
        driven.append(Driven(strategy, targets, "strategy", market))
    if failures and not driven:
        raise StrategyError("; ".join(message for _, message in failures))
    return driven, failures


def drive_benchmarks(prepared: Prepared) -> list[Driven]:
    """Buy-and-hold of the traded market (the primary benchmark) and of the index, when there is one."""
    markets = [(prepared.market, "buy-and-hold")]
    if prepared.index_market is not None:
        markets.append((prepared.index_market, f"buy-and-hold {prepared.index_market.tickers[0]}"))
    driven = []
    for market, label in markets:
        bench = BuyAndHold()
        targets = generate_targets(bench, market, tuple(prepared.config.seeds))
        driven.append(
            Driven(bench, StrategyTargets(label, targets.members, targets.targets), "benchmark", market)
        )
    return driven


def trading_period(market: Market, strategies: list[Driven]) -> TradingPeriod:
    """From the first close on which every strategy has decided to the last day of the data.

    Raises :class:`InputError` when a strategy never decided or no day is left to trade.
    """
    starts = {}
    for d in strategies:
        first = timing.first_decision(d.targets.targets)
        if first is None:
            raise InputError(
                f"strategy {d.strategy.label()} made no decision on the {market.n_days} days of data "
                f"({market.dates[0]}..{market.dates[-1]}); it may need a longer history"
            )
        starts[d.strategy.label()] = first
    start = max(starts.values(), default=0)
    if start >= market.n_days - 1:
        raise InputError(
            f"no trading period left: strategies start trading on {market.dates[start]}, the last day of data"
        )
    return TradingPeriod(start, market.dates[start:], starts)


def measure(
    prepared: Prepared,
    period: TradingPeriod,
    strategies: list[Driven],
    benchmarks: list[Driven],
    progress: Progress | None,
) -> tuple[tuple[StrategyResult, ...], tuple[StrategyResult, ...]]:
    """Simulate and measure every strategy, then every benchmark, over the trading period.

    Progress: ``"simulation"``, in strategies and benchmarks done.
    """
    market = prepared.market
    checkpoints = {
        d.targets.label: Checkpoint(
            d.targets.label, d.targets.state, market.n_days - 1, str(market.dates[-1]),
            market.fingerprint(), d.targets.targets, market.day_digests(),
        )
        for d in strategies
        if d.targets.state is not None
    }  # fmt: skip
    book = _Book.of(prepared, period)
    total = len(strategies) + len(benchmarks)
    if progress:
        progress("simulation", 0, total)
    results = []
    for done, driven in enumerate([*strategies, *benchmarks], start=1):
        checkpoint = checkpoints.get(driven.targets.label) if driven.role == "strategy" else None
        results.append(book.evaluate(driven, checkpoint))
        if progress:
            progress("simulation", done, total)
    return tuple(results[: len(strategies)]), tuple(results[len(strategies) :])


@dataclass(frozen=True)
class _Book:
    """What every simulation of a run shares: its period, costs, dividends and cash rate."""

    prepared: Prepared
    period: TradingPeriod
    costs: Costs
    basis: Basis
    cash_growth: np.ndarray | None  # growth of 1 unit of cash over the period's days (engine.pipeline.basis)
    cash_returns: np.ndarray | None  # daily cash returns between the period's days

    @classmethod
    def of(cls, prepared: Prepared, period: TradingPeriod) -> _Book:
        config = prepared.config
        basis = prepared.basis or Basis(tickers={})
        growth = basis.cash_growth(period.dates)
        returns = None if growth is None else growth[1:] / growth[:-1] - 1.0
        costs = Costs(fee_bps=config.cost_bps, slippage_bps=config.slippage_bps)
        return cls(prepared, period, costs, basis, growth, returns)

    def evaluate(self, driven: Driven, checkpoint: Checkpoint | None) -> StrategyResult:
        """One strategy's orders filled, its equity and metrics over the period (fractions)."""
        start, dates, on = self.period.start, self.period.dates, driven.market
        targets, strategy = driven.targets, driven.strategy
        orders = timing.orders_for_period(targets.targets, start, self.prepared.config.execution_lag)
        # dividends enter the closes the engine compounds, not the strategies' inputs (engine.pipeline.basis)
        sim = simulate(self.basis.valuation_close(on)[start:], orders, dates, self.costs, self.cash_growth)
        metrics = compute_metrics(
            dates,
            sim.equity,
            exposure=sim.exposure,
            traded_value=sim.traded_value,
            fees=sim.fees,
            position_pnl=sim.position_pnl,
            n_orders=sim.n_orders,
            cash_returns=self.cash_returns,
        )
        picked = driven.role == "strategy" and self.prepared.frequency == "annual"
        return StrategyResult(
            name=targets.label,
            role=driven.role,
            params=strategy.params.model_dump(mode="json"),
            frequency=strategy.frequency,
            stochastic=strategy.stochastic,
            tickers=on.tickers,
            members=targets.members,
            metrics=metrics,
            equity=sim.equity,
            targets=targets.targets,
            checkpoint=checkpoint,
            picks=annual_picks(
                targets.targets, targets.members, on.tickers, on.dates, on.close, start, on.universe
            )
            if picked
            else None,
        )


def run_notes(
    prepared: Prepared,
    period: TradingPeriod,
    results: tuple[StrategyResult, ...],
    evidence: dict[str, Any],
    failures: list[tuple[str, str]],
) -> list[str]:
    """The notes a run's report prints under its tables, in order: plausibility flags, the
    period's start, survivorship, the universe, headlines, execution lag, failed strategies."""
    notes = flag_run(results, evidence, period.dates)
    if period.starts and period.start > 0:
        late = max(period.starts, key=lambda k: period.starts[k])
        notes.append(
            f"trading period starts {period.dates[0]}: the first close on which every strategy has decided "
            f"({late} needs {period.start} days of history); the benchmark covers the same period"
        )
    notes.extend(_data_notes(prepared))
    if prepared.config.execution_lag:
        notes.append(f"orders fill {prepared.config.execution_lag} close(s) after the decision")
    notes.extend(f"FAILED {label}: {message}" for label, message in failures)
    return notes


def _data_notes(prepared: Prepared) -> list[str]:
    """Notes on what the data hold: survivorship of a fixed list, the universe, the headlines."""
    market, notes = prepared.market, []
    if prepared.frequency == "annual" and len(market.tickers) > 1 and not np.isnan(market.close[-1]).any():
        notes.append(
            "survivorship: every ticker of this universe trades to the end of the data, as a fixed list of "
            "today's members does (the bundled 20 stocks are); stocks that were dropped or delisted are "
            "missing, which flatters stock picking and the equal-weight benchmark alike"
            + (
                ""
                if prepared.universe
                else "; --universe sp500 (or csv:PATH) picks among each decision day's members"
            )
        )
    if prepared.universe:
        from engine.pipeline.universe_mask import universe_notes

        notes.extend(universe_notes(prepared.universe))
    if prepared.headlines:
        h = prepared.headlines
        notes.append(
            f"headlines {h['spec']}: {h['assigned']} of {h['headlines']} on "
            f"{h['days_with_headlines']} trading days "
            f"({h['rejected']} rows rejected), known by each day's exchange close "
            "(16:00 New York, 13:00 on early-close days)"
        )
    return notes


def assemble(
    prepared: Prepared,
    run_id: str,
    period: TradingPeriod,
    strategies: tuple[StrategyResult, ...],
    benchmarks: tuple[StrategyResult, ...],
    notes: list[str],
    failures: list[tuple[str, str]],
    evidence: dict[str, Any],
) -> SimulatedRun:
    """The run's result: its config and data identity with every result, note and the evidence."""
    config, market = prepared.config, prepared.market
    return SimulatedRun(
        run_id=run_id,
        config=config.model_dump(mode="json"),
        data={**data_identity(config, market), **_headline_identity(prepared.headlines)},
        dates=period.dates,
        data_dates=market.dates,
        strategies=strategies,
        benchmarks=benchmarks,
        notes=tuple(notes),
        failures=tuple(failures),
        evidence=evidence,
        calendar=describe_calendar(),
        universe=prepared.universe,
        basis=prepared.basis.to_dict(period.dates) if prepared.basis is not None else {},
        device=run_device_of(config),
    )


def _evidence(
    results: tuple[StrategyResult, ...], benchmark: StrategyResult, dates: np.ndarray
) -> dict[str, Any]:
    """Evidence (pipeline.evidence) of every strategy against the primary benchmark; trials: all seeds."""
    from engine.pipeline.evidence import daily_returns, sharpe_moments, strategy_evidence

    bench = daily_returns(benchmark.equity)[:, 0]
    sharpes = [
        sharpe_moments(daily_returns(r.equity)[:, c] - bench)[0] for r in results for c in r.seed_columns
    ]
    out = {}
    for r in results:
        block = strategy_evidence(
            r.equity,
            benchmark.equity,
            r.seed_columns,
            dates,
            trials=len(sharpes),
            trial_sharpes=np.array(sharpes),
        )
        block["best_seed"]["seed"] = r.members[r.seed_columns[block["best_seed"].pop("column")]]
        out[r.name] = block
    return out


def _headline_identity(info: dict[str, Any] | None) -> dict[str, Any]:
    """What the headlines contributed, without the cache statistics (which differ run to run)."""
    if not info:
        return {}
    return {"headlines": {k: v for k, v in info.items() if k not in ("cache_hits", "embedded")}}
