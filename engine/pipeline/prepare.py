"""A run config resolved against its data: the market, headline features, universe, basis, strategies.

``prepare`` is the first step of every run, update, rerun, sweep cell and audit
(``engine.pipeline.runner`` takes it from there): it loads the data over the config's dates
(warm-up included), adds the headline features when asked, restricts a universe,
fixes the run's basis (dividends, cash rate) and builds the strategy instances.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config.fields import check_files
from engine.config.run_config import DEFAULT_STRATEGIES, RunConfig
from engine.pipeline.basis import Basis, resolve_basis
from engine.pipeline.progress import Progress, for_stage
from feeds.errors import InputError
from feeds.market import Market
from feeds.sources import DataSpec, load_market
from strategies.base import Strategy
from strategies.registry import resolve


@dataclass(frozen=True)
class Prepared:
    """A config resolved against its data: the market panels and strategy instances."""

    config: RunConfig
    frequency: str
    market: Market  # the universe the strategies trade
    index_market: Market | None  # an index for an extra benchmark, on the universe's days
    strategies: tuple[Strategy, ...]
    headlines: dict[str, Any] | None = None  # what --headlines added (counts, cache hits)
    universe: dict[str, Any] | None = None  # what --universe restricted (universe_mask.apply_universe)
    basis: Basis | None = None  # dividends and cash rate (pipeline.basis); None: price as given, cash 0


def load_data(
    config: RunConfig, *, cache_dir: Path | None = None, progress: Progress | None = None
) -> tuple[Market, dict[str, Any] | None]:
    """The market of ``config`` over its dates, with headline features when it has ``headlines``.

    What :func:`prepare` loads when it is not given a market; sweeps load it once
    per distinct data and share it (``prepare(config, market=..., loaded=...)``).
    """
    # the run's range (and tickers) pushed into the load: a panel: dataset then reads only those
    # years' files and rows. Tickers only without headlines: a day on which only an unasked
    # ticker traded still receives its headlines before Market.select drops it.
    only = config.tickers if config.tickers and not config.headlines else None
    market = load_market(
        DataSpec.parse(config.data),
        tickers=config.tickers,
        cache_dir=cache_dir,
        start=config.start,
        end=config.end,
        only=only,
    )
    market = market.between(config.start, config.end)
    if config.headlines:
        return _with_headlines(config, market, cache_dir, progress)
    return market, None


def prepare(
    config: RunConfig,
    *,
    cache_dir: Path | None = None,
    market: Market | None = None,
    progress: Progress | None = None,
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
    run_device_of(config)  # a device that is not there: one line naming the setting, before the data
    check_files(config)  # so is a csv:PATH setting (dividends, cash rate, universe) naming no file
    warming = _start_warm_ups(strategies)
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
        from engine.pipeline.universe_mask import apply_universe

        traded, members = apply_universe(traded, config.universe, frequency)
    basis = resolve_basis(
        config.data,
        config.dividends,
        config.cash_rate,
        (*traded.tickers, *([index] if index else [])),
        market,
        cache_dir=cache_dir,
    )
    _start_fills_warm_up(warming, len(traded.dates) * len(traded.tickers) * _most_members(config, strategies))
    _finish_warm_ups(warming, progress)
    return Prepared(config, frequency, traded, index_market, strategies, headlines, members, basis)


def _start_warm_ups(strategies: tuple[Strategy, ...]) -> list[tuple[str, threading.Thread]]:
    """Start each strategy's :meth:`~strategies.base.Strategy.warm_up` (numba compiles, seconds
    on a fresh install) in a daemon thread, so it runs while the data loads; one per distinct task."""
    started: list[tuple[str, threading.Thread]] = []
    seen: set[str] = set()
    for strategy in strategies:
        task = strategy.warm_up()
        if task is None or task[0] in seen:
            continue
        seen.add(task[0])
        thread = threading.Thread(target=_quietly(task[1]), name=f"warm-up {task[0]}", daemon=True)
        thread.start()
        started.append((task[0], thread))
    return started


def _most_members(config: RunConfig, strategies: tuple[Strategy, ...]) -> int:
    """The most members (seeds, ensemble) of any strategy: the simulated book has that many
    columns per ticker (ten seeds and an ensemble make a sample run's 8,313 days 91,443 cells)."""
    seeds, most = tuple(config.seeds), 1
    for strategy in strategies:
        try:
            most = max(most, len(strategy.members(seeds)))
        except Exception:  # a plugin's broken members() is reported where the engine drives it
            continue
    return most


def _start_fills_warm_up(started: list[tuple[str, threading.Thread]], cells: int) -> None:
    """Load the fill kernels in the background where the run will call them compiled: numba is in
    use (a strategy warms up) or the book (``cells``: days x tickers x members, an upper bound) is
    too big to interpret. A torch strategy without kernels of its own (``transformer``) so loads
    them beside its model loop, not after it."""
    from engine.pipeline.fills import SMALL_BOOK

    if not started and cells <= SMALL_BOOK:
        return  # interpreted unless numba is loaded by then (engine.pipeline.fills.interpret)
    # the fills compile after the strategies' kernels (numba compiles one at a time), during the
    # model loop; not waited for here, the simulation waits on numba's lock
    threads = [thread for _, thread in started]
    threading.Thread(
        target=_quietly(lambda: _after(threads, _warm_fills)), name="warm-up fills", daemon=True
    ).start()


def _after(threads: list[threading.Thread], fn: Callable[[], None]) -> None:
    for thread in threads:
        thread.join()
    fn()


def _warm_fills() -> None:
    from engine.pipeline import fills

    fills.warm_up()


def _quietly(fn: Callable[[], None]) -> Callable[[], None]:
    # a warm-up that fails is only a lost head start: the run compiles on first use and reports then
    def run() -> None:
        with contextlib.suppress(Exception):
            fn()

    return run


def _finish_warm_ups(started: list[tuple[str, threading.Thread]], progress: Progress | None) -> None:
    """Wait for the warm-ups; one still running when the data is ready is named as a progress stage
    (so the first run on a machine says what its seconds are spent on)."""
    for what, thread in started:
        if thread.is_alive() and progress:
            progress(what, 0, 1)
            thread.join()
            progress(what, 1, 1)
        thread.join()


def _with_headlines(
    config: RunConfig, market: Market, cache_dir: Path | None, progress: Progress | None
) -> tuple[Market, dict[str, Any]]:
    from dataclasses import replace

    from engine.config.settings import Settings
    from feeds.headline_sources import headline_features

    assert config.headlines is not None
    found = headline_features(
        config.headlines,
        market.dates,
        cache_dir or Settings.resolve().cache_dir,
        model=config.headline_model,
        date_only_rule=config.headline_date_only,
        columns=config.headline_options(),
        progress=for_stage(progress, "embedding headlines"),
        device=_embedding_device(config),
    )
    info = {"spec": config.headlines, "model": config.headline_model, **found.info()}
    return replace(market, features={**market.features, **found.features}), info


def run_device_of(config: RunConfig) -> str:
    """The torch device ``config.device`` names here (``cpu``, ``cuda:0`` ...); InputError naming the
    setting when it is not there.

    ``cpu``, and ``auto`` where no GPU can be (no driver: ``accelerator_possible``), give
    ``cpu`` without importing torch: numpy-only strategies and the compiled LSTM start
    without it. With a driver present ``auto`` asks torch (about a second), so that the
    manifest written before the run records the GPU a torch strategy will use there.
    """
    from strategies.nn.device import accelerator_possible, resolve_device

    if "torch" not in sys.modules and (
        config.device == "cpu" or (config.device == "auto" and not accelerator_possible())
    ):
        return "cpu"

    try:
        return str(resolve_device(config.device))
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _embedding_device(config: RunConfig) -> str:
    """The device of the headline model: the run's (sentence-transformers imports torch anyway)."""
    import torch  # noqa: F401 - loaded here so that ``auto`` sees a GPU

    return run_device_of(config)


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
