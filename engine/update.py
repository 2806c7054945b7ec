"""``backtest update``: continue a stored run over new days from its checkpoints.

The daily routine: yesterday's run holds each online or walk-forward strategy's full
state after its last day. ``update_run`` loads the same config over the new data, checks that
the data up to that day are exactly those the run saw, continues those
strategies one update per new day, in order (a missed week is caught up by one
call), recomputes rule strategies and benchmarks over the longer data, and stores
the result as a new run whose ``parent`` is the old one. The outcome equals a run
done in one go over the longer data, bit for bit (tested). The old run is never
modified, so a crash mid-update leaves it and its checkpoint intact.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from engine.config import RunConfig
from engine.results import RunResult
from engine.runner import ProgressFn, prepare, run_and_store
from engine.store import RunStore
from feeds.errors import InputError
from strategies.base import OnlineStrategy, WalkForwardStrategy


def update_run(
    store: RunStore,
    ref: str,
    *,
    data: str | None = None,
    end: dt.date | None = None,
    cache_dir: Path | None = None,
    progress: ProgressFn | None = None,
) -> tuple[RunResult | None, str]:
    """Continue run ``ref``; returns (the new run, or None when there is nothing new, a message)."""
    info, _ = store.load_metrics(ref)
    saved = store.load_checkpoints(info.run_id)
    if not saved:
        raise InputError(
            f"run {info.run_id} has no checkpoint: only runs of online and walk-forward strategies "
            "(e.g. lstm-stateful, transformer) can be updated; run the others again instead"
        )
    old = RunConfig.model_validate(info.manifest["config"])
    config = old.model_copy(update={"data": data or old.data, "end": end})
    prepared = prepare(config, cache_dir=cache_dir)
    last_date = max(cp.last_date for cp in saved.values())
    if str(prepared.market.dates[-1]) <= last_date:
        return None, f"run {info.run_id} is up to date: the data end on {prepared.market.dates[-1]}"
    online = {s.label() for s in prepared.strategies if isinstance(s, (OnlineStrategy, WalkForwardStrategy))}
    missing = sorted(online - set(saved))
    if missing:
        raise InputError(f"run {info.run_id} has no checkpoint for {', '.join(missing)}")
    new_days = int((prepared.market.dates > np.datetime64(last_date)).sum())
    result = run_and_store(prepared, store, progress=progress, resume=saved, parent=info.run_id)
    return (
        result,
        f"continued run {info.run_id} over {new_days} new day(s) after {last_date} -> {result.run_id}",
    )
