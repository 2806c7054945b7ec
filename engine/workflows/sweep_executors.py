"""A sweep's executors: where its cells compute, and what a worker holds.

``local``: a pool of spawned processes (:func:`local_pool`), one torch thread each, a short
queue so that Ctrl-C loses little; ``ray``: ``ray.remote`` tasks, on a local Ray instance
unless an ``address`` is given. The driver (:mod:`engine.workflows.sweep`) loads each
distinct data once and sends it to each worker once (pool initializer; ``ray.put``);
workers return a :class:`CellOutcome` per cell and never touch the store, so workers on
other machines need no shared disk. A cell computes the same bits on either executor.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from engine.config.fields import data_fields
from engine.config.run_config import RunConfig
from engine.config.sweep_spec import Cell
from engine.pipeline.prepare import prepare
from engine.pipeline.results import SimulatedRun
from engine.pipeline.runner import execute
from engine.store.run_store import RunFailed, error_message, new_run_id
from feeds.errors import InputError
from feeds.market import Market

# What a cell's loaded data depend on: the value of each RunConfig field tagged ``data``, by name.
DataKey = tuple[tuple[str, Any], ...]
Loaded = tuple[Market, dict[str, Any] | None]  # what engine.pipeline.prepare.load_data returns
_MARKETS: dict[DataKey, Loaded] = {}


def data_key(config: RunConfig) -> DataKey:
    """Cells with equal keys share their loaded data (the fields tagged ``data``: engine.config.fields)."""
    return tuple((name, getattr(config, name)) for name in data_fields())


@dataclass(frozen=True)
class CellOutcome:
    """What a worker sends back for one cell: its result, or the error that stopped it."""

    result: SimulatedRun | None
    error: str = ""

    def unwrap(self) -> SimulatedRun:
        """The result; a failed cell raises :class:`RunFailed` with its error (recorded as it is)."""
        if self.result is None:
            raise RunFailed(self.error)
        return self.result


def _init_worker(markets: dict[DataKey, Loaded], gpus: Any = None) -> None:
    """Pool initializer: the prepared data arrive once per worker, not once per cell.

    ``gpus``: a queue of GPU indices (``--gpus N``); the worker takes one and sees only
    that GPU (``CUDA_VISIBLE_DEVICES``, set before torch initializes CUDA), so its
    cells' ``auto``/``cuda`` is that GPU and N workers run one cell per GPU at a time.
    """
    if gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus.get())
    import torch

    torch.set_num_threads(1)
    _MARKETS.update(markets)


def run_cell(config: RunConfig, run_id: str, loaded: Loaded | None = None) -> SimulatedRun:
    """Execute one cell on prepared data (``loaded``, or the worker's copy); no store access."""
    data = loaded if loaded is not None else _MARKETS[data_key(config)]
    return execute(prepare(config, loaded=data), run_id=run_id)


def _safe_cell(config: RunConfig, run_id: str, loaded: Loaded | None = None) -> CellOutcome:
    try:
        return CellOutcome(run_cell(config, run_id, loaded))
    except Exception as exc:  # returned, not raised: one failing cell must not stop the sweep
        return CellOutcome(None, error_message(exc))
    finally:
        _release()


def _release() -> None:
    """After a cell in a worker that stays: drop its tensors and return a GPU's cached memory."""
    import gc
    import sys

    gc.collect()
    if "torch" in sys.modules:
        from strategies.nn.device import free_device_memory

        free_device_memory()


Record = Callable[
    [Cell, str, CellOutcome, float], None
]  # the driver's: (cell, run id, outcome, submitted at)


def local_pool(markets: dict[DataKey, Loaded], workers: int, gpus: int = 0) -> ProcessPoolExecutor:
    """The local executor's pool: ``workers`` spawned processes; with ``gpus`` one per GPU index."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no forked torch/numba/CUDA state
    queue = None
    if gpus:
        queue = context.Queue()
        for index in range(gpus):
            queue.put(index)
    return ProcessPoolExecutor(
        max_workers=gpus or workers, mp_context=context, initializer=_init_worker, initargs=(markets, queue)
    )


def run_local(
    todo: Iterable[Cell], markets: dict[DataKey, Loaded], workers: int, record: Record, gpus: int = 0
) -> None:
    """Compute ``todo``'s cells in :func:`local_pool`, handing each outcome to ``record`` as it comes.

    ``todo`` is pulled lazily (the driver claims a cell when it is pulled): at most
    ``workers * 2`` cells are queued at a time.
    """
    pool = local_pool(markets, workers, gpus)
    pending: dict[Future[CellOutcome], tuple[Cell, str, float]] = {}
    queue: Iterator[Cell] = iter(todo)
    try:
        for cell in itertools.islice(queue, workers * 2):  # a short queue: Ctrl-C loses little
            run_id = new_run_id()
            pending[pool.submit(_safe_cell, cell.config, run_id)] = (cell, run_id, time.time())
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                cell, run_id, began = pending.pop(future)
                record(cell, run_id, future.result(), began)
                nxt = next(queue, None)
                if nxt is not None:
                    new_id = new_run_id()
                    pending[pool.submit(_safe_cell, nxt.config, new_id)] = (nxt, new_id, time.time())
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def ray_task_options(gpus: int) -> dict[str, int]:
    """A cell's Ray resources: one CPU, and with ``--gpus`` one GPU (Ray sets its CUDA_VISIBLE_DEVICES)."""
    return {"num_cpus": 1, **({"num_gpus": 1} if gpus else {})}


def run_ray(
    todo: Iterable[Cell],
    markets: dict[DataKey, Loaded],
    workers: int | None,
    address: str | None,
    record: Record,
    gpus: int = 0,
) -> None:
    """Compute ``todo``'s cells as Ray tasks (a local instance unless ``address``), ``record`` each outcome.

    Each distinct data is ``ray.put`` once; a Ray instance started here is shut down here.
    """
    try:
        import ray
    except ImportError as exc:
        raise InputError("--executor ray needs Ray: pip install -e '.[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=workers or os.cpu_count(),
                **({"num_gpus": gpus} if gpus else {}),
                include_dashboard=False,
                log_to_driver=False,
            )
    try:
        refs = {key: ray.put(market) for key, market in markets.items()}  # shipped once per node

        @ray.remote(**ray_task_options(gpus))
        def remote_cell(config: RunConfig, run_id: str, loaded: Loaded) -> CellOutcome:
            import torch

            torch.set_num_threads(1)
            return _safe_cell(config, run_id, loaded)

        pending = {}
        for cell in todo:
            run_id = new_run_id()
            ref = remote_cell.remote(cell.config, run_id, refs[data_key(cell.config)])
            pending[ref] = (cell, run_id, time.time())
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            cell, run_id, began = pending.pop(ready[0])
            record(cell, run_id, ray.get(ready[0]), began)
    except KeyboardInterrupt:
        for ref in list(locals().get("pending", {})):
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()
