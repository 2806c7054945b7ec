"""Record a run: execute the pipeline and store it through :meth:`RunStore.record` (one writer)."""

from __future__ import annotations

import time
from typing import Any

from engine.pipeline.checkpoint import Checkpoint
from engine.pipeline.prepare import Prepared
from engine.pipeline.progress import Progress
from engine.pipeline.results import SimulatedRun
from engine.pipeline.runner import execute
from engine.store.manifest import run_manifest
from engine.store.run_store import RunStore, new_run_id


def run_and_store(
    prepared: Prepared,
    store: RunStore,
    *,
    progress: Progress | None = None,
    resume: dict[str, Checkpoint] | None = None,
    parent: str | None = None,
    tags: dict[str, Any] | None = None,
) -> SimulatedRun:
    """Execute and store a run (:meth:`RunStore.record`); a failure is recorded as failed and re-raised.

    ``resume``/``parent``: continue online strategies from an earlier run's checkpoints;
    ``tags``: extra manifest entries (e.g. ``rerun_of``).
    """
    run_id = new_run_id()
    started = time.time()
    manifest = run_manifest(prepared, parent=parent, tags=tags)
    return store.record(
        run_id,
        manifest,
        lambda: execute(prepared, run_id=run_id, progress=progress, resume=resume),
        started=started,
        progress=progress,
    )
