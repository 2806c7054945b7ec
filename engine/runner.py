"""Running a backtest: data -> strategies -> common trading period -> simulation -> metrics.

``execute`` is the whole pipeline for one :class:`RunConfig`; ``run_and_store`` adds
the results store around it (partial folder first, atomic publish at the end, a
``failed`` record with the message if anything breaks).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from engine import timing
from engine.basis import Basis, resolve_basis
from engine.checkpoints import Checkpoint
from engine.config import DEFAULT_STRATEGIES, RunConfig
from engine.drive import Resume, StrategyTargets, generate_targets
from engine.metrics import compute_metrics
from engine.picks import annual_picks
from engine.plausibility import flag_run
from engine.results import RunResult, StrategyResult
from engine.simulate import Costs, simulate
from engine.store import RunStore, new_run_id
from feeds.errors import InputError
from feeds.exchange_calendar import describe as describe_calendar
from feeds.market import Market
from feeds.sources import DataSpec, load_market
from strategies.base import Strategy
from strategies.baselines import BuyAndHold
from strategies.errors import StrategyError
from strategies.registry import resolve

# (stage, done, total): e.g. ("lstm-stateful", 640, 8313)
ProgressFn = Callable[[str, int, int], None]
VERSIONED = ("stock-rnn", "numpy", "pandas", "polars", "vectorbt", "numba", "torch", "pydantic")


@dataclass(frozen=True)
class Prepared:
    """A config resolved against its data: the market panels and strategy instances."""

    config: RunConfig
    frequency: str
    market: Market  # the universe the strategies trade
    index_market: Market | None  # an index for an extra benchmark, on the universe's days
    strategies: tuple[Strategy, ...]
    headlines: dict[str, Any] | None = None  # what --headlines added (counts, cache hits)
    universe: dict[str, Any] | None = None  # what --universe restricted (engine.universe.apply_universe)
    basis: Basis | None = None  # dividends and cash rate (engine.basis); None: price as given, cash 0


def load_data(
    config: RunConfig, *, cache_dir: Path | None = None, progress: ProgressFn | None = None
) -> tuple[Market, dict[str, Any] | None]:
    """The market of ``config`` over its dates, with headline features when it has ``headlines``.

    What :func:`prepare` loads when it is not given a market; sweeps load it once
    per distinct data and share it (``prepare(config, market=..., loaded=...)``).
    """
    market = load_market(DataSpec.parse(config.data), tickers=config.tickers, cache_dir=cache_dir)
    market = market.between(config.start, config.end)
    if config.headlines:
        return _with_headlines(config, market, cache_dir, progress)
    return market, None


def prepare(
    config: RunConfig,
    *,
    cache_dir: Path | None = None,
    market: Market | None = None,
    progress: ProgressFn | None = None,
    loaded: tuple[Market, dict[str, Any] | None] | None = None,
) -> Prepared:
    """Load data and strategies for ``config``; bad input raises :class:`InputError`.

    With ``config.headlines`` the headlines are embedded (through the cache in
    ``cache_dir``) and joined to the market as daily feature columns. ``market``:
    use these prices instead of loading ``config.data`` (dates and headlines are
    still applied); ``loaded``: what :func:`load_data` returned for this config.
    """
    if progress:
        progress("data", 0, 1)
    names = [s.name for s in config.strategies]
    classes = [resolve(name) for name in names]
    frequency = _frequency(config.frequency, classes)
    if not classes:
        classes = [resolve(name) for name in DEFAULT_STRATEGIES[frequency]]
    specs = config.strategies or ()
    strategies = tuple(cls(specs[i].params if i < len(specs) else {}) for i, cls in enumerate(classes))
    if loaded is not None:
        market, headlines = loaded
    elif market is not None:
        market, headlines = market.between(config.start, config.end), None
        if config.headlines:
            market, headlines = _with_headlines(config, market, cache_dir, progress)
    else:
        market, headlines = load_data(config, cache_dir=cache_dir, progress=progress)
    universe = _universe(market, config.tickers, frequency)
    traded = market.select(universe)
    index = next((t for t in market.index_tickers if t not in universe), None)
    index_market = market.select([index]).reindex(traded.dates) if index else None
    members = None
    if config.universe:
        from engine.universe import apply_universe

        traded, members = apply_universe(traded, config.universe, frequency)
    basis = resolve_basis(
        config.data,
        config.dividends,
        config.cash_rate,
        (*traded.tickers, *([index] if index else [])),
        market,
        cache_dir=cache_dir,
    )
    return Prepared(config, frequency, traded, index_market, strategies, headlines, members, basis)


def _with_headlines(
    config: RunConfig, market: Market, cache_dir: Path | None, progress: ProgressFn | None
) -> tuple[Market, dict[str, Any]]:
    from dataclasses import replace

    from engine.settings import Settings
    from feeds.headline_sources import headline_features

    assert config.headlines is not None
    found = headline_features(
        config.headlines,
        market.dates,
        cache_dir or Settings.resolve().cache_dir,
        model=config.headline_model,
        date_only_rule=config.headline_date_only,
        columns=config.headline_options(),
        progress=(lambda done, total: progress("embedding headlines", done, total)) if progress else None,
    )
    info = {"spec": config.headlines, "model": config.headline_model, **found.info()}
    return replace(market, features={**market.features, **found.features}), info


def _frequency(requested: str | None, classes: list[type[Strategy]]) -> str:
    native = {cls.frequency for cls in classes}
    if requested is None:
        if len(native) > 1:
            raise InputError(
                "the strategies mix daily and annual signals; run them separately or pass --frequency"
            )
        return native.pop() if native else "daily"
    wrong = [cls.label() for cls in classes if cls.frequency != requested]
    if wrong:
        raise InputError(
            f"--frequency {requested}: strategy {', '.join(wrong)} makes "
            f"{'annual' if requested == 'daily' else 'daily'} signals"
        )
    return requested


def _universe(market: Market, tickers: tuple[str, ...], frequency: str) -> list[str]:
    if tickers:
        if len(market.tickers) == 1 and len(tickers) == 1:
            return list(market.tickers)  # a one-ticker file: --ticker named it
        return [t.strip() for t in tickers]
    if len(market.tickers) == 1:
        return list(market.tickers)
    if frequency == "daily" and market.index_tickers:
        return [market.index_tickers[0]]
    return [t for t in market.tickers if t not in market.index_tickers]


def _resume_point(label: str, checkpoint: Checkpoint, market: Market) -> Resume:
    """Check that ``market`` extends the data the checkpoint was computed on."""
    last = checkpoint.last_day
    if last >= market.n_days or str(market.dates[last]) != checkpoint.last_date:
        raise InputError(
            f"strategy {label}: the data do not contain the checkpoint's last day {checkpoint.last_date} "
            f"at the same position; run afresh instead of updating"
        )
    if market.head(last + 1).fingerprint() != checkpoint.data_fingerprint:
        raise InputError(
            f"strategy {label}: the data up to {checkpoint.last_date} differ from those the run was "
            "computed on (revised prices?); run afresh instead of updating"
        )
    return Resume(checkpoint.state, last + 1, checkpoint.targets)


def execute(
    prepared: Prepared,
    *,
    run_id: str = "",
    progress: ProgressFn | None = None,
    resume: dict[str, Checkpoint] | None = None,
) -> RunResult:
    """Generate, align, simulate and measure every strategy and benchmark.

    ``resume`` maps strategy labels to checkpoints of an earlier run over a prefix
    of the same data: those strategies continue from there (``backtest update``).
    """
    config = prepared.config
    market = prepared.market
    seeds = tuple(config.seeds)
    resume = resume or {}

    def stage(label: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(label, done, total)) if progress else None

    generated: list[tuple[Strategy, StrategyTargets, str]] = []
    failures: list[tuple[str, str]] = []
    for strategy in prepared.strategies:
        label = strategy.label()
        try:
            targets = generate_targets(
                strategy,
                market,
                seeds,
                max_leverage=config.max_leverage,
                progress=stage(label),
                resume=_resume_point(label, resume[label], market) if label in resume else None,
            )
        except StrategyError as exc:
            # one broken strategy (a plugin, say) must not take the others down: record it, go on
            failures.append((label, str(exc)))
            continue
        generated.append((strategy, targets, "strategy"))
    if failures and not generated:
        raise StrategyError("; ".join(message for _, message in failures))
    checkpoint_of = {
        t.label: Checkpoint(
            t.label, t.state, market.n_days - 1, str(market.dates[-1]), market.fingerprint(), t.targets
        )
        for _, t, _ in generated
        if t.state is not None
    }
    benchmark_markets = [(market, "buy-and-hold")]
    if prepared.index_market is not None:
        benchmark_markets.append((prepared.index_market, f"buy-and-hold {prepared.index_market.tickers[0]}"))
    benchmarks = []
    for bench_market, label in benchmark_markets:
        bench = BuyAndHold()
        targets = generate_targets(bench, bench_market, seeds)
        benchmarks.append((bench, StrategyTargets(label, targets.members, targets.targets), bench_market))

    starts = {}
    for strategy, targets, _ in generated:
        first = timing.first_decision(targets.targets)
        if first is None:
            raise InputError(
                f"strategy {strategy.label()} made no decision on the {market.n_days} days of data "
                f"({market.dates[0]}..{market.dates[-1]}); it may need a longer history"
            )
        starts[strategy.label()] = first
    start = max(starts.values(), default=0)
    if start >= market.n_days - 1:
        raise InputError(
            f"no trading period left: strategies start trading on {market.dates[start]}, the last day of data"
        )
    dates = market.dates[start:]
    costs = Costs(fee_bps=config.cost_bps, slippage_bps=config.slippage_bps)
    basis = prepared.basis or Basis(tickers={})
    cash_growth = basis.cash_growth(dates)
    cash_returns = None if cash_growth is None else cash_growth[1:] / cash_growth[:-1] - 1.0

    def evaluate(strategy: Strategy, targets: StrategyTargets, role: str, on: Market) -> StrategyResult:
        orders = timing.orders_for_period(targets.targets, start, config.execution_lag)
        # dividends enter the closes the engine compounds, not the strategies' inputs (engine.basis)
        sim = simulate(basis.valuation_close(on)[start:], orders, dates, costs, cash_growth)
        metrics = compute_metrics(
            dates,
            sim.equity,
            exposure=sim.exposure,
            traded_value=sim.traded_value,
            fees=sim.fees,
            position_pnl=sim.position_pnl,
            n_orders=sim.n_orders,
            cash_returns=cash_returns,
        )
        return StrategyResult(
            name=targets.label,
            role=role,
            params=strategy.params.model_dump(mode="json"),
            frequency=strategy.frequency,
            stochastic=strategy.stochastic,
            tickers=on.tickers,
            members=targets.members,
            metrics=metrics,
            equity=sim.equity,
            targets=targets.targets,
            checkpoint=checkpoint_of.get(targets.label) if role == "strategy" else None,
            picks=annual_picks(
                targets.targets, targets.members, on.tickers, on.dates, on.close, start, on.universe
            )
            if role == "strategy" and prepared.frequency == "annual"
            else None,
        )

    simulated = len(generated) + len(benchmarks)
    if progress:
        progress("simulation", 0, simulated)
    finished = iter(range(1, simulated + 1))

    def counted(result: StrategyResult) -> StrategyResult:
        if progress:
            progress("simulation", next(finished), simulated)
        return result

    strategy_results = tuple(counted(evaluate(s, t, role, market)) for s, t, role in generated)
    bench_results = tuple(counted(evaluate(s, t, "benchmark", on)) for s, t, on in benchmarks)
    if progress:
        progress("evidence", 0, 1)
    evidence = _evidence(strategy_results, bench_results[0], dates)
    notes = flag_run(strategy_results, evidence, dates)
    if starts and start > 0:
        late = max(starts, key=lambda k: starts[k])
        notes.append(
            f"trading period starts {dates[0]}: the first close on which every strategy has decided "
            f"({late} needs {start} days of history); the benchmark covers the same period"
        )
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
        from engine.universe import universe_notes

        notes.extend(universe_notes(prepared.universe))
    if prepared.headlines:
        h = prepared.headlines
        notes.append(
            f"headlines {h['spec']}: {h['assigned']} of {h['headlines']} on "
            f"{h['days_with_headlines']} trading days "
            f"({h['rejected']} rows rejected), known by each day's exchange close "
            "(16:00 New York, 13:00 on early-close days)"
        )
    if config.execution_lag:
        notes.append(f"orders fill {config.execution_lag} close(s) after the decision")
    notes.extend(f"FAILED {label}: {message}" for label, message in failures)
    return RunResult(
        run_id=run_id,
        config=config.model_dump(mode="json"),
        data={**data_identity(config, market), **_headline_identity(prepared.headlines)},
        dates=dates,
        data_dates=market.dates,
        strategies=strategy_results,
        benchmarks=bench_results,
        notes=tuple(notes),
        failures=tuple(failures),
        evidence=evidence,
        calendar=describe_calendar(),
        universe=prepared.universe,
        basis=basis.to_dict(dates) if prepared.basis is not None else {},
    )


def _evidence(
    results: tuple[StrategyResult, ...], benchmark: StrategyResult, dates: np.ndarray
) -> dict[str, Any]:
    """engine.evidence for every strategy against the primary benchmark; trials = all seeds of the run."""
    from engine.evidence import daily_returns, sharpe_moments, strategy_evidence

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


def data_identity(config: RunConfig, market: Market) -> dict[str, Any]:
    return {
        "spec": config.data,
        "origin": market.origin,
        "tickers": list(market.tickers),
        "first": str(market.dates[0]),
        "last": str(market.dates[-1]),
        "days": int(market.n_days),
        "fingerprint": market.fingerprint(),
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def plugin_origin(cls: type[Strategy]) -> dict[str, str]:
    """Where a strategy's code comes from: its distribution and version, or its file's SHA-256."""
    from engine.provenance import code_origin

    return code_origin(cls)


def run_and_store(
    prepared: Prepared,
    store: RunStore,
    *,
    progress: ProgressFn | None = None,
    resume: dict[str, Checkpoint] | None = None,
    parent: str | None = None,
    tags: dict[str, Any] | None = None,
) -> RunResult:
    """Execute and store a run; on failure the run is recorded as failed and the error re-raised.

    ``resume``/``parent``: continue online strategies from an earlier run's checkpoints;
    ``tags``: extra manifest entries (e.g. ``rerun_of``).
    """
    run_id = new_run_id()
    started = time.time()
    manifest = run_manifest(prepared, parent=parent, tags=tags)
    store.begin(run_id, manifest)
    try:
        result = execute(prepared, run_id=run_id, progress=progress, resume=resume)
    except Exception as exc:  # recorded as failed, then re-raised; Ctrl-C leaves it incomplete
        store.fail(run_id, finished_manifest(manifest, started), error_message(exc))
        raise
    if progress:
        progress("storing", 0, 1)
    store.commit(result, finished_manifest(manifest, started, result))
    return result


def run_manifest(
    prepared: Prepared, *, parent: str | None = None, tags: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a run's ``manifest.json`` says before it runs (config, data identity, versions, tags)."""
    manifest: dict[str, Any] = {
        # UTC, to the microsecond: `latest` and listings order by it (two runs a second apart is common)
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "config": prepared.config.model_dump(mode="json"),
        "frequency": prepared.frequency,
        "strategies": [s.label() for s in prepared.strategies],
        "seeds": list(prepared.config.seeds),
        "data": data_identity(prepared.config, prepared.market),
        "versions": versions(),
        "plugins": {s.label(): plugin_origin(type(s)) for s in prepared.strategies},
        **(tags or {}),
    }
    if parent:
        manifest["parent"] = parent
    if os.environ.get("STOCKRNN_JOB"):  # a dashboard worker: links the run to its job (engine.jobs)
        manifest["job"] = os.environ["STOCKRNN_JOB"]
    return manifest


def finished_manifest(
    manifest: dict[str, Any], started: float, result: RunResult | None = None
) -> dict[str, Any]:
    finished = {**manifest, "finished_at": _now(), "duration_s": round(time.time() - started, 3)}
    if result is not None and result.failures:
        finished["error"] = "; ".join(f"{label} failed: {message}" for label, message in result.failures)
    return finished


def error_message(exc: BaseException) -> str:
    """Bad input and broken strategies speak for themselves; anything else gets its type."""
    return str(exc) if isinstance(exc, (InputError, StrategyError)) else f"{type(exc).__name__}: {exc}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
