"""Sweeps: strategies x parameters x data x periods x headlines on/off, each cell an ordinary run.

The spec and its grid of cells are :mod:`engine.config.sweep_spec` (the spec's format is
in its docstring). Cells are stored as ordinary runs tagged ``sweep`` and ``cell`` in
their manifests: the store is the sweep's only record. Running a sweep again skips
every cell with a complete run on the same data (fingerprint of the cell's data as they
are now) and computes the rest (a killed sweep resumes; a failed cell is retried; after
new data, the cells on them run again); a failing cell is stored as failed with its
error and the others go on.

This module is the driver: it loads the data (and headline embeddings) once per distinct
data spec and period, claims cells, and is the only writer of the store. Where cells
compute (``local`` process pool or ``ray``) is :mod:`engine.workflows.sweep_executors`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config.run_config import RunConfig
from engine.config.sweep_spec import MAX_CELLS, Cell, SpecDict, SweepAxes, expand, spec_model
from engine.pipeline.prepare import load_data, prepare
from engine.pipeline.progress import Progress
from engine.store.locks import Claim
from engine.store.manifest import run_manifest
from engine.store.run_store import COMPLETE, RunFailed, RunStore
from engine.workflows.sweep_executors import CellOutcome, DataKey, Loaded, data_key, run_local, run_ray
from feeds.errors import InputError

__all__ = ["CELLS", "SweepOutcome", "completed_cells", "run_sweep"]


@dataclass
class SweepOutcome:
    sweep_id: str
    cells: int
    skipped: int = 0
    done: list[str] = field(default_factory=list)  # run ids
    failed: list[tuple[str, str]] = field(default_factory=list)  # (cell label, error)
    seconds: float = 0.0
    elsewhere: int = 0  # cells being computed by another process at the time (claimed there)


def _cheap_complete(
    store: RunStore, sweep_id: str, fingerprints: dict[str, str] | None = None
) -> dict[str, str]:
    """run id -> cell key of the sweep's runs that pass the listing's cheap check.

    ``fingerprints`` (cell key -> fingerprint of the cell's data now): a run counts
    only when it was computed on those data, so a cell whose data changed (new days
    fetched, a file edited) is computed again. Newest first, as the store lists.
    """
    found: dict[str, str] = {}
    for info in store.list():
        manifest = info.manifest
        if info.status != COMPLETE or manifest.get("sweep") != sweep_id or "cell" not in manifest:
            continue
        cell = manifest["cell"]
        if fingerprints is not None and manifest.get("data", {}).get("fingerprint") != fingerprints.get(cell):
            continue
        found[info.run_id] = cell
    return found


def _sound_and_damaged(
    store: RunStore, sweep_id: str, fingerprints: dict[str, str] | None = None
) -> tuple[dict[str, str], frozenset[str]]:
    """(cell key -> run id of runs passing the store's full check, run ids failing it)."""
    sound: dict[str, str] = {}
    damaged = set()
    for run_id, key in _cheap_complete(store, sweep_id, fingerprints).items():
        try:
            store.load_metrics(run_id)  # metrics.json parsed with the keys readers use, Parquet schemas
        except InputError:
            damaged.add(run_id)
            continue
        sound.setdefault(key, run_id)
    return sound, frozenset(damaged)


def completed_cells(
    store: RunStore, sweep_id: str, fingerprints: dict[str, str] | None = None
) -> dict[str, str]:
    """cell key -> run id of the complete runs of a sweep already in the store.

    Each run passes the store's full check, so a damaged cell is computed again
    instead of being skipped forever; with ``fingerprints``, only runs on the cell's
    data as they are now count (see :func:`_cheap_complete`).
    """
    return _sound_and_damaged(store, sweep_id, fingerprints)[0]


# --- driver -------------------------------------------------------------------------------
def prepare_markets(cells: list[Cell], cache_dir: Path | None) -> dict[DataKey, Loaded]:
    """Load each distinct data/period/tickers/headlines combination once (with embeddings)."""
    markets: dict[DataKey, Loaded] = {}
    for cell in cells:
        if data_key(cell.config) not in markets:
            markets[data_key(cell.config)] = load_data(cell.config, cache_dir=cache_dir)
    return markets


def run_sweep(
    spec: SweepAxes | SpecDict,
    store: RunStore,
    *,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    cache_dir: Path | None = None,
    on_event: Event | None = None,
    progress: Progress | None = None,
    gpus: int = 0,
    max_cells: int | None = MAX_CELLS,
) -> SweepOutcome:
    """Run every missing cell of ``spec``; see the module docstring.

    ``max_cells`` (``--max-cells``): a spec of more cells is refused before anything is expanded
    or loaded (:func:`engine.config.sweep_spec.check_cell_count`); None for no limit.

    ``gpus`` (``--gpus N``): one cell per GPU at a time; local: N workers, worker i
    sees GPU i only (``CUDA_VISIBLE_DEVICES``); Ray: each task asks for one GPU
    (``num_gpus=1``) and Ray assigns it. The cells' ``device`` (``auto``) then takes it.

    ``on_event(kind, cell, detail)``: ``"done"`` (detail: the run id), ``"failed"``
    (the error) or ``"elsewhere"`` (a cell claimed by another process), as they happen.
    ``progress``: ``"sweep cells"``, in cells stored (complete or failed) of those to run.
    """
    model = spec_model(spec)
    cells = expand(model, max_cells=max_cells)
    started = time.time()
    # the data are loaded (once per distinct data) before deciding what is complete: a cell's
    # resume key is its config AND the fingerprint of its data as they are now
    markets = prepare_markets(cells, cache_dir)
    fingerprints = {c.key: _fingerprint(c.config, markets[data_key(c.config)]) for c in cells}
    complete, damaged = _sound_and_damaged(store, model.name, fingerprints)
    todo = [c for c in cells if c.key not in complete]
    outcome = SweepOutcome(model.name, len(cells), skipped=len(cells) - len(todo))
    if not todo:
        return outcome
    if executor not in ("local", "ray"):
        raise InputError(f"--executor {executor!r}: use local or ray")
    driver = _Driver(
        store, model.name, markets, fingerprints, damaged, outcome, on_event or _quiet, progress, len(todo)
    )
    if progress:
        progress(CELLS, 0, len(todo))
    try:
        if executor == "local":
            count = gpus or workers or os.cpu_count() or 1
            run_local(driver.claimed(todo), markets, count, driver.record, gpus=gpus)
        else:
            run_ray(driver.claimed(todo), markets, workers, address, driver.record, gpus=gpus)
    finally:
        driver.release_all()
    outcome.seconds = time.time() - started
    return outcome


Event = Callable[[str, Cell, str], None]
CELLS = "sweep cells"  # the progress stage of run_sweep


def _quiet(_kind: str, _cell: Cell, _detail: str) -> None:
    return None


@dataclass
class _Driver:
    """The sweep's driver process: claims cells as the executor asks for work, stores what comes back."""

    store: RunStore
    sweep_id: str
    markets: dict[DataKey, Loaded]
    fingerprints: dict[str, str]  # cell key -> fingerprint of its data now
    damaged: frozenset[str]  # run ids failing the store's full check: never count as complete
    outcome: SweepOutcome
    say: Event
    progress: Progress | None  # CELLS, in cells stored of those to run
    to_run: int  # cells not complete when the sweep started
    claims: dict[str, Claim] = field(default_factory=dict)  # cell key -> this process's claim

    def claimed(self, cells: list[Cell]) -> Iterator[Cell]:
        """The cells this process claims, one at a time, as the executor asks for work.

        Two identical sweeps at once: a cell claimed by the other one is left to it; a
        cell that became complete since the listing (the other sweep just finished it)
        is skipped. Claims are flocks, so a killed sweep leaves none behind.
        """
        for cell in cells:
            claim = Claim.try_acquire(self.store.root, f"cell-{self.sweep_id}-{cell.key}")
            if claim is None:
                self.outcome.elsewhere += 1
                self.say("elsewhere", cell, "being computed by another process")
                continue
            # cheap re-check (the other sweep may have just finished it); known damage never counts
            done = _cheap_complete(self.store, self.sweep_id, self.fingerprints)
            if any(key == cell.key and run_id not in self.damaged for run_id, key in done.items()):
                claim.release()
                self.outcome.skipped += 1
                continue
            self.claims[cell.key] = claim
            yield cell

    def record(self, cell: Cell, run_id: str, computed: CellOutcome, began: float) -> None:
        """Store a cell's run (:meth:`RunStore.record`), complete or failed, then release its claim.

        ``began``: when the cell was submitted (``time.time()``), for the manifest's duration.
        """
        manifest = self._manifest(cell)
        try:
            self.store.record(run_id, manifest, computed.unwrap, started=began)
        except RunFailed as exc:
            self.outcome.failed.append((cell.label, str(exc)))
            self.say("failed", cell, str(exc))
        else:
            self.outcome.done.append(run_id)
            self.say("done", cell, run_id)
        finally:
            if self.progress:
                stored = len(self.outcome.done) + len(self.outcome.failed)
                self.progress(CELLS, stored, self.to_run)
            claim = self.claims.pop(cell.key, None)
            if claim is not None:  # released after publishing: a later claimant sees the run
                claim.release()

    def _manifest(self, cell: Cell) -> dict[str, Any]:
        tags = {"sweep": self.sweep_id, "cell": cell.key, "cell_label": cell.label}
        try:
            return run_manifest(prepare(cell.config, loaded=self.markets[data_key(cell.config)]), tags=tags)
        except Exception:  # the cell's config itself is bad (e.g. an unknown strategy): say what we know
            return {"config": cell.config.model_dump(mode="json"), "strategies": [], **tags}

    def release_all(self) -> None:
        """Release the claims of cells still computing (an interrupted sweep)."""
        for claim in self.claims.values():
            claim.release()


def _fingerprint(config: RunConfig, loaded: Loaded) -> str:
    """The fingerprint a cell's run records (``manifest.data.fingerprint``): of its traded data."""
    try:
        return prepare(config, loaded=loaded).market.fingerprint()
    except Exception:  # a cell that cannot be prepared has no data identity; it fails when run
        return ""
