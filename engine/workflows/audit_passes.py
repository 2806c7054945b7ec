"""The look-ahead audit's passes: each one run in a fresh interpreter, given only its own data.

A :class:`Pass` is pickled to a file and run by ``python -m engine.workflows.audit_worker``
(``subprocess``, one pass per process), so that no module state, cache or memo can carry
answers from one pass to another; the child writes back ``("ok", targets)`` or
``("error", message)``. What the passes are and how they are compared:
:mod:`engine.workflows.audit`.
"""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.drive import generate_targets
from feeds.errors import InputError
from feeds.market import Market
from strategies.errors import StrategyError
from strategies.registry import resolve


@dataclass(frozen=True)
class Pass:
    """One pass of the audit, as sent to a fresh process."""

    kind: str  # "full", "again", "truncated", "replaced"
    cut: int | None
    spec: str
    params: dict[str, Any]
    market: Market
    seeds: tuple[int, ...]
    max_leverage: float
    until: int | None
    environment: dict[str, str]


def run_pass(job: Pass) -> tuple[str, np.ndarray | str]:
    """In the child: build the strategy from its spec and run it on the pass's data only."""
    os.environ.update(job.environment)
    try:
        strategy = resolve(job.spec)(job.params)
        targets = generate_targets(
            strategy, job.market, job.seeds, max_leverage=job.max_leverage, until=job.until
        ).targets
    except (StrategyError, InputError) as exc:
        return "error", str(exc)
    return "ok", targets


def _in_fresh_process(job: Pass, folder: Path, index: int) -> tuple[str, np.ndarray | str]:
    """Run ``job`` in a fresh interpreter (``engine.workflows.audit_worker``) and return its result."""
    job_path, out_path = folder / f"pass{index}.pkl", folder / f"result{index}.pkl"
    job_path.write_bytes(pickle.dumps(job))
    # the hash seed must be in the child's environment: setting it inside a running interpreter does nothing
    env = {
        **os.environ,
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    done = subprocess.run(
        [sys.executable, "-m", "engine.workflows.audit_worker", str(job_path), str(out_path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not out_path.exists():
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        return "error", f"the pass's process exited with code {done.returncode}: {tail[0]}"
    result = pickle.loads(out_path.read_bytes())  # written by our own worker, just now
    out_path.unlink()
    return result


def pass_environment() -> dict[str, str]:
    """What a child needs to find the same strategies: the plugins dirs."""
    from strategies.registry import PLUGINS_ENV

    return {PLUGINS_ENV: os.environ.get(PLUGINS_ENV, "")}


Submit = Callable[[Pass], "Future[tuple[str, np.ndarray | str]]"]


@dataclass(frozen=True)
class Passes:
    """What every pass of one audit shares: the strategy's spec and parameters, seeds, leverage."""

    spec: str
    params: dict[str, Any]
    seeds: tuple[int, ...]
    max_leverage: float
    environment: dict[str, str]

    def job(self, kind: str, data: Market, cut: int | None = None, until: int | None = None) -> Pass:
        return Pass(
            kind, cut, self.spec, self.params, data, self.seeds, self.max_leverage, until, self.environment
        )

    @staticmethod
    def submitter(threads: ThreadPoolExecutor, folder: Path) -> Submit:
        """Submit passes to fresh processes, numbered for their files in ``folder``."""
        counter = itertools.count()
        return lambda one: threads.submit(_in_fresh_process, one, folder, next(counter))
