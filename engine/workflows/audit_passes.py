"""The look-ahead audit's passes: each one run in a fresh process, given only its own data.

A :class:`Pass` is pickled to a file and run in a process of its own, so that no module
state, cache or memo can carry answers from one pass to another; the process writes back
``("ok", targets)`` or ``("error", message)``. Where the system can fork, the processes
are forked by a :class:`ForkServer` (``engine.workflows.audit_worker --serve``: a fresh
interpreter that has only imported the modules and loaded the compiled kernels, once per
audit); elsewhere each pass is a fresh ``python -m engine.workflows.audit_worker``. What
the passes are and how they are compared: :mod:`engine.workflows.audit`.
"""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
import threading
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


def _child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    # the hash seed must be in the child's environment: setting it inside a running interpreter does nothing
    return {
        **os.environ,
        **(extra or {}),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }


def _in_fresh_process(job: Pass, folder: Path, index: int) -> tuple[str, np.ndarray | str]:
    """Run ``job`` in a fresh interpreter (``engine.workflows.audit_worker``) and return its result."""
    job_path, out_path = folder / f"pass{index}.pkl", folder / f"result{index}.pkl"
    job_path.write_bytes(pickle.dumps(job))
    done = subprocess.run(
        [sys.executable, "-m", "engine.workflows.audit_worker", str(job_path), str(out_path)],
        env=_child_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    return _result(done.returncode, done.stderr or "", out_path)


def _result(code: int, stderr: str, out_path: Path) -> tuple[str, np.ndarray | str]:
    """A finished pass's result, or the last line of its stderr when its process failed."""
    if code != 0 or not out_path.exists():
        tail = stderr.strip().splitlines()[-1:] or ["no message"]
        return "error", f"the pass's process exited with code {code}: {tail[0]}"
    result = pickle.loads(out_path.read_bytes())  # written by our own worker, just now
    out_path.unlink()
    return result


class ForkServer:
    """A fresh interpreter that forks one process per pass (``engine.workflows.audit_worker --serve``).

    Started once per audit with the strategy's spec: it imports what the passes import
    (the strategy's module included) and loads the compiled kernels; it calls nothing of
    the strategy and holds no data. Each
    :meth:`run` forks a process from it that reads only its own pass's file. Used as a
    context manager; closing it waits for running passes, then for the server.
    """

    def __init__(self, spec: str, environment: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "engine.workflows.audit_worker", "--serve", spec],
            env=_child_environment(environment),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._done: dict[str, tuple[threading.Event, list[int]]] = {}
        assert self._process.stdout is not None
        # not ready (it failed to start): every pass falls back to a fresh interpreter of its own
        self._alive = self._process.stdout.readline().strip() == "ready"
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            index, code = line.split("\t")
            with self._lock:
                event, box = self._done[index]
            box.append(int(code))
            event.set()
        with self._lock:  # the server ended: no more answers come
            self._alive = False
            for event, box in self._done.values():
                if not event.is_set():
                    box.append(-1)
                    event.set()

    def run(self, job: Pass, folder: Path, index: int) -> tuple[str, np.ndarray | str]:
        """Run ``job`` in a process forked for it alone and return its result."""
        job_path, out_path = folder / f"pass{index}.pkl", folder / f"result{index}.pkl"
        err_path = folder / f"stderr{index}.txt"
        event, box = threading.Event(), list[int]()
        job_path.write_bytes(pickle.dumps(job))
        with self._lock:
            sent = self._alive
            if sent:
                self._done[str(index)] = (event, box)
                assert self._process.stdin is not None
                try:
                    self._process.stdin.write(f"{index}\t{job_path}\t{out_path}\t{err_path}\n")
                    self._process.stdin.flush()
                except OSError:  # the server is gone
                    self._alive = sent = False
                    del self._done[str(index)]
        if not sent:  # outside the lock: other passes go on meanwhile
            job_path.unlink()
            return _in_fresh_process(job, folder, index)
        event.wait()
        stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
        return _result(box[0], stderr, out_path)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        if exc[0] is not None:
            self._process.kill()
        self._process.wait()
        self._reader.join(timeout=5)


def can_fork() -> bool:
    """Whether passes can be forked from a :class:`ForkServer` (POSIX), else one interpreter each."""
    return hasattr(os, "fork") and sys.platform != "darwin"  # macOS: fork after importing torch is unsafe


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
    def submitter(threads: ThreadPoolExecutor, folder: Path, server: ForkServer | None = None) -> Submit:
        """Submit passes to fresh processes (forked by ``server`` when given), numbered in ``folder``."""
        counter = itertools.count()
        run = _in_fresh_process if server is None else server.run
        return lambda one: threads.submit(run, one, folder, next(counter))
