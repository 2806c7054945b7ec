"""``backtest update``: continue a stored run over new days from its checkpoints.

The daily routine: yesterday's run holds each online or walk-forward strategy's full
state after its last day. ``update_run`` loads the same config over the new data, checks that
the data up to that day are exactly those the run saw, continues those
strategies one update per new day, in order (a missed week is caught up by one
call), recomputes rule strategies and benchmarks over the longer data, and stores
the result as a new run whose ``parent`` is the old one. The outcome equals a run
done in one go over the longer data, bit for bit (tested). The old run is never
modified, so a crash mid-update leaves it and its checkpoint intact.

A run folder is data, never code to run (folders are copied between machines):
its checkpoints are read as tensors and plain data only (``engine.store.checkpoints``),
and a strategy that the manifest names by ``module:Class`` or ``file.py:Class`` is
imported only when the user names it again (``plugins``, the CLI's ``--plugin``).
Registered names (installed packages, ``--plugins-dir``) resolve as usual: the
user installed or pointed at that code. Data that end before the run's last day
are refused (exit 2) rather than reported as "up to date".
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np

from engine.config.run_config import RunConfig, validate
from engine.config.trust import check_config
from engine.pipeline.checkpoint import Checkpoint
from engine.pipeline.prepare import Prepared, prepare
from engine.pipeline.progress import Progress
from engine.pipeline.results import SimulatedRun
from engine.store import checkpoint_state, checkpoints
from engine.store.run_store import RunStore
from engine.workflows.record import run_and_store
from feeds.errors import InputError
from strategies.base import OnlineStrategy, WalkForwardStrategy


def update_run(
    store: RunStore,
    ref: str,
    *,
    data: str | None = None,
    end: dt.date | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    plugins: tuple[str, ...] = (),
    headline_models: tuple[str, ...] = (),
) -> tuple[SimulatedRun | None, str]:
    """Continue run ``ref``; returns (the new run, or None when there is nothing new, a message).

    ``plugins``: ``module:Class`` / ``file.py:Class`` strategies the user allows to be
    imported again (the run's manifest alone never causes an import); ``headline_models``: the
    same for a headline model other than the default (engine.config.trust).
    """
    info, _ = store.load_metrics(ref)
    old = validate(RunConfig, info.manifest.get("config"), f"run {info.run_id}: manifest.json config")
    check_config(old, f"run {info.run_id}", plugins=plugins, headline_models=headline_models)
    saved = store.load_checkpoints(info.run_id)
    if not saved:
        raise InputError(
            f"run {info.run_id} has no checkpoint: only runs of online and walk-forward strategies "
            "(e.g. lstm-stateful, transformer) can be updated; run the others again instead"
        )
    config = old.model_copy(update={"data": data or old.data, "end": end})
    prepared = prepare(config, cache_dir=cache_dir)
    last_date = max(cp.last_date for cp in saved.values())
    if str(prepared.market.dates[-1]) < last_date:
        raise InputError(
            f"run {info.run_id}: the data ({config.data}) end on {prepared.market.dates[-1]}, before the "
            f"run's last day {last_date}; an update needs the same data extended, not shorter"
        )
    if str(prepared.market.dates[-1]) == last_date:
        return None, f"run {info.run_id} is up to date: the data end on {prepared.market.dates[-1]}"
    online = {s.label() for s in prepared.strategies if isinstance(s, (OnlineStrategy, WalkForwardStrategy))}
    missing = sorted(online - set(saved))
    if missing:
        raise InputError(f"run {info.run_id} has no checkpoint for {', '.join(missing)}")
    _check_against_the_model(info.run_id, store, prepared, saved)
    new_days = int((prepared.market.dates > np.datetime64(last_date)).sum())
    result = run_and_store(prepared, store, progress=progress, resume=saved, parent=info.run_id)
    return (
        result,
        f"continued run {info.run_id} over {new_days} new day(s) after {last_date} -> {result.run_id}",
    )


def _check_against_the_model(
    run_id: str, store: RunStore, prepared: Prepared, saved: dict[str, Checkpoint]
) -> None:
    """Refuse (InputError, before any run is stored) a checkpoint that does not fit the model it continues.

    Each online strategy is begun afresh from the run's config on a copy; its
    ``state_dict()`` is compared with the checkpoint's (:func:`checkpoint_state.first_difference`, lenient:
    a fresh state may not hold everything yet), the checkpoint is loaded into the copy (any error is a
    refusal), and the copy's state after loading must have exactly the checkpoint's structure (a wrong
    shape copied by broadcasting, a dtype cast, a key ignored all show there). The targets must be
    (last day + 1, members, tickers) of float64.
    """
    from engine.pipeline.runner import _resume_point, run_strategies_on
    from strategies.history import History, PastBuffer

    market, seeds = prepared.market, tuple(prepared.config.seeds)
    folder = store.root / run_id / checkpoints.FOLDER
    with run_strategies_on(prepared.config.device):
        for n, strategy in enumerate(prepared.strategies):
            label = strategy.label()
            if label not in saved:
                continue
            cp = saved[label]
            _resume_point(label, cp, market)  # the data extend those the checkpoint was computed on
            shape = (cp.last_day + 1, len(strategy.members(seeds)), len(market.tickers))
            if cp.targets.shape != shape or cp.targets.dtype != np.float64:
                raise InputError(
                    f"checkpoint {folder}/{n}.targets.npy: refused: it holds "
                    f"{checkpoint_state.describe(cp.targets)}, the run implies array {shape} float64"
                )
            fresh = copy.deepcopy(strategy)
            past = PastBuffer.empty(market)
            past.append(PastBuffer.over(market), 0)
            fresh.begin(History(past, 1), seeds)
            where = f"checkpoint {folder}/{n}.pt: refused: it does not fit strategy {label}"
            try:
                expected = fresh.state_dict()
                diff = checkpoint_state.first_difference(cp.state, expected, strict=False)
                if diff:
                    raise InputError(f"{where}: {diff}")
                try:
                    fresh.load_state_dict(copy.deepcopy(cp.state))
                except Exception as exc:
                    raise InputError(f"{where}: loading it raised {type(exc).__name__}: {exc}") from None
                diff = checkpoint_state.first_difference(cp.state, fresh.state_dict())
                if diff:
                    raise InputError(f"{where}: {diff}")
            finally:
                fresh.end()
