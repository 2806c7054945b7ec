"""The results store: one folder per run under a runs directory.

Layout of ``<runs_dir>/<run_id>/``::

    manifest.json    config, data fingerprint, package versions, seeds, status, times (UTC)
    metrics.json     the run's results in their one JSON form (engine.pipeline.results)
    equity.parquet   date, strategy, role, member, equity   (trading period)
    weights.parquet  date, strategy, role, member, ticker, weight   (decision rows only)
    checkpoint/      online strategies' state, to continue the run (engine.store.checkpoints)

Atomicity: a run is written in ``<run_id>.partial/`` and renamed to ``<run_id>/``
only when every file is on disk, so a killed run never looks complete. While it is
written, its process holds a claim on the run id (``engine.store.locks``, released by
the kernel if the process dies): a ``.partial`` folder with a held claim is
``running``, one without is ``incomplete`` (killed or interrupted) and
``backtest runs --prune`` removes it once it is older than a given age.

A run's status is derived from the files it needs, each checked by the one reader of run
folders (engine.store.run_reader): regular files inside the folder only, sizes bounded before
reading, the manifest and metrics.json against their typed schemas, the frames' Parquet
schemas, every checkpoint present. A folder failing a check is ``broken`` with the reason
(naming the file); a listing never raises on a bad folder and lists every other run; a command
that reads a broken run says one line at exit 2. The check parses each metrics.json once per
process (remembered by the files' inode, size and mtime). ``latest`` is the newest complete
run by the creation time its manifest records (UTC), not the highest folder name. The
``sweeps/`` folder (sweep reports) and dot-files (locks) are not runs.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from engine.config.paths import RESERVED, check_name, check_runs_dir
from engine.pipeline.progress import Progress
from engine.pipeline.results import SimulatedRun, clean
from engine.store import checkpoints, writes
from engine.store.frames import encode_frames
from engine.store.locks import CLAIMS, Claim, runs_dir_lock
from engine.store.manifest import finished_manifest
from engine.store.result_schema import RunResult, parse_result
from engine.store.run_reader import (
    BROKEN,
    CANCELLED,
    COMPLETE,
    FAILED,
    INCOMPLETE,
    PARTIAL,
    RUNNING,
    Damaged,
    RunInfo,
    checked_metrics,
    claim_key,
    digests,
    folder_info,
    read_frame,
    read_manifest,
)
from feeds.errors import InputError
from strategies.errors import StrategyError


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id: ``YYYYMMDD-HHMMSS-xxxxxx``, the time in UTC."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class RunFailed(Exception):
    """A run that failed elsewhere (a sweep's worker): its message is recorded as it is."""


def error_message(exc: BaseException) -> str:
    """Bad input and broken strategies speak for themselves; anything else gets its type."""
    if isinstance(exc, (InputError, StrategyError, RunFailed)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def write_json_atomic(path: Path, payload: Any, *, root: Path | None = None) -> None:
    """Write JSON to ``path`` atomically, never through a symbolic link (``engine.store.writes``).

    ``root``: the runs directory, when ``path`` is under it: every folder between is checked for
    links too. A write the disk refuses (full, read-only, no permission) is one line (exit 2).
    """
    writes.write_json(path, clean(payload), root=root)


class RunStore:
    """Runs under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = check_runs_dir(Path(root))
        self._claims: dict[str, Claim] = {}  # runs this process is writing

    # writing -------------------------------------------------------------------------
    def record(
        self,
        run_id: str,
        manifest: dict[str, Any],
        compute: Callable[[], SimulatedRun],
        *,
        started: float | None = None,
        progress: Progress | None = None,
    ) -> SimulatedRun:
        """Write run ``run_id``: the only writer of run folders (runs, updates, reruns, sweep cells).

        Claims the run id and creates ``<run_id>.partial/`` with a ``running`` manifest,
        then calls ``compute``: its result is written and published ``complete``; an
        exception is recorded ``failed`` with :func:`error_message` (a :class:`RunFailed`
        with its own message) and re-raised. Ctrl-C (or a kill) leaves the partial folder,
        listed ``incomplete`` once the claim is gone. ``started``: when the computation
        began (``time.time()``; default now), for the manifest's ``duration_s``.
        ``progress``: ``("storing", 0, 1)`` before the files are written.

        A store that cannot be written (disk full, read-only, permission denied, a symbolic
        link in the way) raises :class:`writes.StoreWriteError` (exit 2) naming the path; the
        run's partial folder is removed (best effort: it frees the space) and never listed
        complete; a computed result that could not be stored is lost, not half-kept.
        """
        started = time.time() if started is None else started
        try:
            self._begin(run_id, manifest)
        except writes.StoreWriteError:
            self._abandon(run_id)
            raise
        try:
            result = compute()
        except Exception as exc:  # recorded as failed, then re-raised; Ctrl-C leaves it incomplete
            try:
                self._fail(run_id, finished_manifest(manifest, started), error_message(exc))
            except writes.StoreWriteError:
                self._abandon(run_id)
                raise
            raise
        if progress:
            progress("storing", 0, 1)
        try:
            self._commit(result, finished_manifest(manifest, started, result))
        except writes.StoreWriteError:
            self._abandon(run_id)
            raise
        return result

    def _abandon(self, run_id: str) -> None:
        """A run the store could not take: its partial folder removed (if it can be) and its claim freed."""
        folder = self.root / f"{run_id}{PARTIAL}"
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
        claim = self._claims.pop(run_id, None)
        if claim is not None:
            claim.release()

    def _begin(self, run_id: str, manifest: dict[str, Any]) -> Path:
        """Create the partial folder of a new run with a ``running`` manifest (claimed until published)."""
        check_name(run_id, "run id")
        folder = self.root / f"{run_id}{PARTIAL}"
        writes.make_dirs(self.root)
        claim = Claim.try_acquire(self.root, claim_key(run_id))
        if claim is None:
            raise InputError(f"run {run_id} is being written by another process")
        self._claims[run_id] = claim
        try:
            os.mkdir(folder)  # a new folder, never an existing one (nor a link planted there)
        except OSError as exc:
            self._claims.pop(run_id).release()
            raise writes.store_error(exc, folder) from None
        write_json_atomic(
            folder / "manifest.json", {**manifest, "run_id": run_id, "status": RUNNING}, root=self.root
        )
        return folder

    def _commit(self, result: SimulatedRun, manifest: dict[str, Any]) -> Path:
        """Write the results of a finished run and publish it atomically."""
        folder = self.root / f"{result.run_id}{PARTIAL}"
        payload = result.to_dict()
        for name, frame in encode_frames(result).items():
            writes.write_parquet(folder / name, frame, root=self.root)
        checkpoints.save(
            folder, [r.checkpoint for r in result.strategies if r.checkpoint is not None], root=self.root
        )
        write_json_atomic(folder / "metrics.json", payload, root=self.root)
        write_json_atomic(
            folder / "manifest.json",
            {
                **manifest,
                "run_id": result.run_id,
                "status": COMPLETE,
                "headline": _headline(parse_result(payload)),
                "files": digests(folder),  # what the reader checks every file against
            },
            root=self.root,
        )
        return self._publish(folder, result.run_id)

    def _fail(self, run_id: str, manifest: dict[str, Any], error: str) -> Path:
        """Record a run that failed, with its error message, and publish it."""
        folder = writes.make_dirs(self.root / f"{run_id}{PARTIAL}", self.root)
        write_json_atomic(
            folder / "manifest.json",
            {**manifest, "run_id": run_id, "status": FAILED, "error": error},
            root=self.root,
        )
        return self._publish(folder, run_id)

    def cancel(self, run_id: str, error: str) -> Path | None:
        """Publish the ``.partial`` folder of a run whose writer was stopped (a dashboard job) as
        ``cancelled`` with ``error``; None when there is no such folder (finished, or never begun)."""
        folder = self.root / f"{check_name(run_id, 'run id')}{PARTIAL}"
        if not folder.is_dir() or folder.is_symlink():
            return None
        try:
            manifest = read_manifest(folder)
        except Damaged:
            manifest = {}
        write_json_atomic(
            folder / "manifest.json",
            {**manifest, "run_id": run_id, "status": CANCELLED, "error": error},
            root=self.root,
        )
        try:
            os.rename(folder, self.root / run_id)
        except OSError as exc:
            raise writes.store_error(exc, self.root / run_id) from None
        return self.root / run_id

    def _publish(self, folder: Path, run_id: str) -> Path:
        final = self.root / check_name(run_id, "run id")
        _fsync_dir(folder)
        if final.is_symlink() or final.exists():
            # rename(2) would replace an empty folder or fail on a full one; a link there is planted
            raise writes.StoreWriteError(f"cannot write {final}: something is already there")
        try:
            os.rename(folder, final)
        except OSError as exc:
            raise writes.store_error(exc, final) from None
        _fsync_dir(self.root)
        claim = self._claims.pop(run_id, None)
        if claim is not None:
            claim.release()
        return final

    # reading -------------------------------------------------------------------------
    def list(self) -> list[RunInfo]:
        """Every run folder, newest first (by recorded creation time), with its status.

        Never raises on bad folders: they are listed ``broken`` with the reason.
        """
        if not self.root.is_dir():
            return []
        infos = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or folder.name in RESERVED or not folder.is_dir():
                continue
            infos.append(self._info(folder))
        return sorted(infos, key=RunInfo.sort_key, reverse=True)

    def _info(self, folder: Path) -> RunInfo:
        return folder_info(self.root, folder)

    def find(self, ref: str) -> RunInfo:
        """A run by id, unique id prefix, or ``latest`` (the newest complete run by creation time)."""
        runs = self.list()
        if ref in ("latest", "last"):
            done = [r for r in runs if r.status == COMPLETE]
            if not done:
                raise InputError(f"no complete runs in {self.root}")
            return done[0]
        exact = [r for r in runs if r.run_id == ref]
        matches = exact or [r for r in runs if r.run_id.startswith(ref)]
        if not matches:
            raise InputError(f"no run {ref!r} in {self.root} (see `backtest runs`)")
        if len(matches) > 1:
            raise InputError(f"run id {ref!r} is ambiguous: {', '.join(r.run_id for r in matches[:5])}")
        return matches[0]

    def _complete(self, ref: str) -> RunInfo:
        info = self.find(ref)
        if info.status != COMPLETE:
            raise InputError(
                f"run {info.run_id} is {info.status}" + (f": {info.error}" if info.error else "")
            )
        return info

    def load_metrics(self, ref: str) -> tuple[RunInfo, dict[str, Any]]:
        """The JSON results of a complete run, after the full check of its files."""
        info = self._complete(ref)
        try:
            metrics = checked_metrics(info.path, info.manifest)
        except Damaged as exc:
            raise InputError(f"run {info.run_id} is broken: {exc}") from None
        return info, metrics

    def load_equity(self, ref: str) -> pl.DataFrame:
        """Equity curves of a complete run: date, strategy, role, member, equity."""
        return self._frame(ref, "equity.parquet")

    def load_weights(self, ref: str) -> pl.DataFrame:
        """Decision rows of a complete run: date, strategy, role, member, ticker, weight."""
        return self._frame(ref, "weights.parquet")

    def _frame(self, ref: str, name: str) -> pl.DataFrame:
        info = self._complete(ref)
        try:
            return read_frame(info.path, name)
        except Damaged as exc:
            raise InputError(f"run {info.run_id} is broken: {exc}") from None

    def load_checkpoints(self, ref: str) -> dict[str, checkpoints.Checkpoint]:
        """Checkpoints of a complete run's online strategies, by strategy label."""
        return checkpoints.load(self.find(ref).path)

    def remove(self, ref: str) -> Path:
        info = self.find(ref)
        _remove(info.path)
        return info.path

    def prunable(self, older_than_hours: float) -> list[RunInfo]:
        """Leftovers ``prune`` would remove: incomplete ``.partial`` folders whose newest file is
        older than ``older_than_hours`` (and whose writer is gone), broken runs, and cancelled runs."""
        cutoff = time.time() - older_than_hours * 3600.0
        return [
            info
            for info in self.list()
            if info.status in (BROKEN, CANCELLED)
            or (info.status == INCOMPLETE and _newest_mtime(info.path) <= cutoff)
        ]

    def prune(self, infos: list[RunInfo]) -> list[Path]:
        """Remove these leftovers (from :meth:`prunable`), re-checked under the runs directory's lock."""
        removed = []
        with runs_dir_lock(self.root):
            for info in infos:
                now = self._info(info.path) if info.path.exists() or info.path.is_symlink() else None
                if now is None or now.status not in (BROKEN, CANCELLED, INCOMPLETE):
                    continue  # finished, or being written again, since it was listed
                _remove(info.path)
                removed.append(info.path)
            # empty lock files of dead processes (harmless, but clutter): free ones are removed
            for path in sorted((self.root / CLAIMS).glob("*.lock")):
                claim = Claim.try_acquire(self.root, path.stem)
                if claim is not None:
                    claim.release()
        return removed


def _newest_mtime(folder: Path) -> float:
    """The newest modification time of a folder and the files in it (seconds since the epoch)."""
    times = [folder.lstat().st_mtime]
    if folder.is_dir() and not folder.is_symlink():
        times += [p.lstat().st_mtime for p in folder.rglob("*")]
    return max(times)


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()  # a link: remove the link, never what it points at
    else:
        shutil.rmtree(path)


def _headline(result: RunResult) -> dict[str, Any]:
    """Key figures for listings: the first strategy's CAGR against buy-and-hold.

    Formatted for the listings (``cagr``: "4.59%"), and as fractions (``cagr_value``) for the API.
    Read through the typed result, as every reader of metrics.json does.
    """
    first = (result.strategies or [result.benchmark])[0]
    fmt = lambda v: "—" if v is None else f"{v * 100:.2f}%"  # noqa: E731
    return {
        "period": f"{result.period.start}..{result.period.end}",
        "strategy": first.name,
        "cagr": fmt(first.cagr),
        "benchmark_cagr": fmt(result.benchmark.cagr),
        "cagr_value": first.cagr,
        "benchmark_cagr_value": result.benchmark.cagr,
    }


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
