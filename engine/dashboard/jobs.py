"""Backtests run in worker processes, for the dashboard; they survive page reloads.

A job is one checked :class:`RunConfig` run by :mod:`engine.dashboard.worker` in a
child process (through the Python API, no command-line strings; isolated from the
working directory, engine.dashboard.isolated): training never runs in the
Streamlit script thread, the page stays responsive, and every model, tensor and
numba cache is freed when the child exits, so the server's memory stays flat
however many runs a session makes.

Everything about a job lives in the runs directory, not in the page's memory, so a
reloaded page (a new Streamlit session) re-attaches to it with :func:`active_jobs`::

    <runs_dir>/.jobs/<job_id>/job.json       pid, start time, the config echo (the page's record)
                              request.json   what the worker runs (engine.dashboard.worker)
                              progress.json  latest {stage, done, total, stage_started, time}
                              result.json    {run_id, failed} once the run is stored
                              error.txt      the worker's one-line error
                              output.txt     the worker's stdout and stderr (a traceback)

The store lists no dot-folder, so ``.jobs`` never shows up as a run. The worker's
run carries the job id in its manifest (``job``), which links a ``.partial`` run
folder to a live job ("running") and lets :meth:`Job.cancel` publish it as
``cancelled`` instead of leaving an ``incomplete`` folder behind. The worker leads
a process group of its own: cancelling stops it and any process it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.api import CANCELLED, PARTIAL, RunStore, run_reader, store_writes, write_json_atomic
from engine.config.run_config import RunConfig
from engine.dashboard.isolated import isolated_command
from engine.dashboard.worker import ERROR, OUTPUT, PROGRESS, RESULT, write_request

JOBS = ".jobs"
# stages the runner reports besides one per strategy (engine.api.execute)
STAGES = ("data", "embedding headlines", "simulation", "evidence", "storing")


@dataclass
class JobStatus:
    """What a job is doing now. Times in seconds (``elapsed`` since start, ``remaining`` estimated)."""

    state: str  # "running", "done", "failed", "cancelled", "gone" (record removed by another page)
    stage: str = ""
    done: int = 0
    total: int = 0
    run_id: str | None = None
    error: str = ""
    elapsed: float = 0.0
    remaining: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def describe(self) -> str:
        """One line for the progress bar: stage, count, elapsed and remaining time."""
        if not self.stage:
            text = "starting the worker (loading libraries)"
        elif self.stage in STAGES:
            text = self.stage + (f" {self.done}/{self.total}" if self.total > 1 else "")
        else:
            text = f"strategy {self.stage}: day {self.done:,} of {self.total:,}"
        text += f" · {_clock(self.elapsed)} elapsed"
        if self.remaining is not None and self.remaining >= 1:
            text += f" · about {_clock(self.remaining)} left in this stage"
        return text


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


_CLI_WORDS = re.compile(r"--([a-z][a-z-]*)")


def plain_error(line: str) -> str:
    """A worker's error line in the page's words: no ``error:`` prefix, option names as field names."""
    text = re.sub(r"^(internal )?error:\s*", "", line.strip())
    text = text.replace(" (run again with --debug for the traceback)", "")
    return _CLI_WORDS.sub(lambda m: m.group(1).replace("-", " "), text)


class Job:
    """One run in a worker process, recorded under ``<runs_dir>/.jobs``."""

    def __init__(self, folder: Path, info: dict[str, Any], process: subprocess.Popen | None = None) -> None:
        self.folder = folder
        self.info = info
        self.process = process

    @property
    def job_id(self) -> str:
        return self.folder.name

    @property
    def runs_dir(self) -> Path:
        return self.folder.parent.parent

    @classmethod
    def start(cls, config: RunConfig, *, runs_dir: Path, cache_dir: Path | None = None) -> Job:
        """Start a worker that runs ``config`` and stores it under ``runs_dir``.

        The plugins dirs of this process (``$STOCKRNN_PLUGINS_DIR``) go with the
        request; relative data paths are read from this process's working directory.
        """
        from strategies.registry import PLUGINS_ENV

        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        folder = Path(runs_dir) / JOBS / job_id
        store_writes.make_dirs(folder, Path(runs_dir))  # every level below the runs dir: no links
        plugins = [p for p in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]
        write_request(folder, config, cache_dir=cache_dir, plugins_dirs=plugins)
        output = store_writes.open_no_follow(folder / OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(output, "wb") as out:
            process = subprocess.Popen(
                isolated_command("engine.dashboard.worker", str(folder)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=Path.cwd(),
                start_new_session=True,  # its own process group: cancel stops its children too
            )
        info = {"pid": process.pid, "started": time.time(), "echo": config.model_dump(mode="json")}
        write_json_atomic(folder / "job.json", info)
        return cls(folder, info, process)

    @classmethod
    def attach(cls, folder: Path) -> Job | None:
        """The job recorded in ``folder`` (after a reload), or None when its record is unreadable."""
        try:
            info = json.loads((folder / "job.json").read_text())
            int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(folder, info)

    def _alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        pid = int(self.info["pid"])
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        # a zombie has exited; a reused pid runs someone else's command line
        return stat.rsplit(")", 1)[-1].split()[0] != "Z" and self.job_id in cmdline

    def run_folder(self) -> Path | None:
        """The store folder of this job's run (``.partial`` while it runs), once the worker made it."""
        runs = self.runs_dir
        if not runs.is_dir():
            return None
        started = time.strftime("%Y%m%d-%H%M%S", time.localtime(float(self.info["started"]) - 5))
        for folder in sorted(runs.iterdir(), reverse=True):
            if folder.name.startswith(".") or folder.name.removesuffix(PARTIAL) < started:
                continue
            try:
                manifest = run_reader.read_json(folder, "manifest.json")  # bounded, regular files only
            except run_reader.Damaged:
                continue
            if isinstance(manifest, dict) and manifest.get("job") == self.job_id:
                return folder
        return None

    def poll(self) -> JobStatus:
        """The job's state now; ``done`` carries the run id and payload, ``failed`` one plain line."""
        elapsed = time.time() - float(self.info["started"])
        if not self.folder.is_dir():
            return JobStatus("gone", elapsed=elapsed)  # forgotten by another page after it showed it
        if (self.folder / CANCELLED).exists():
            return JobStatus(CANCELLED, elapsed=elapsed)
        if self._alive():
            status = JobStatus("running", elapsed=elapsed)
            try:
                latest = json.loads((self.folder / PROGRESS).read_text())
                status.stage, status.done, status.total = latest["stage"], latest["done"], latest["total"]
                in_stage = float(latest.get("time", 0)) - float(latest.get("stage_started", 0))
                if 0 < status.done < status.total and in_stage > 1:
                    status.remaining = in_stage * (status.total - status.done) / status.done
            except (OSError, ValueError, KeyError, TypeError):
                pass
            return status
        # the worker writes error.txt before result.json: a partly failed run reads as failed
        if (self.folder / ERROR).exists():
            return JobStatus("failed", error=self._error(), elapsed=elapsed)
        try:
            result = json.loads((self.folder / RESULT).read_text())
            run_id = str(result["run_id"])
        except (OSError, ValueError, KeyError, TypeError):
            return JobStatus("failed", error=self._error(), elapsed=elapsed)
        return JobStatus("done", run_id=run_id, elapsed=elapsed)

    def _error(self) -> str:
        """The worker's one line; else (it died: killed, or a crash at start) its output's last line."""
        lines: list[str] = []
        for name in (ERROR, OUTPUT):
            try:
                lines = (self.folder / name).read_text(errors="replace").strip().splitlines()
            except OSError:
                continue
            if any(line.strip() for line in lines):
                break
        line = next((line for line in reversed(lines) if line.strip()), "the worker stopped without a result")
        return plain_error(line)

    def cancel(self) -> None:
        """Stop the worker (its whole process group); publish its half-made run as ``cancelled``."""
        (self.folder / CANCELLED).touch()
        if self._alive():
            group = int(self.info["pid"])  # the worker leads its own group (start_new_session)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGTERM)
            deadline = time.time() + 10
            while self._alive() and time.time() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)  # what ignored SIGTERM, children included
            if self.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
        mark_cancelled(self.run_folder())

    def stored_outcome(self) -> tuple[str | None, str | None]:
        """(status, run id) of this job's run as the store records it now, (None, None) before it has one.

        After a cancel this is the truth: a cancel that lands while the run is being stored can come
        too late (the run is published ``complete``), and the page must say so, not "cancelled".
        """
        folder = self.run_folder()
        if folder is None:
            return None, None
        try:
            manifest = run_reader.read_json(folder, "manifest.json")
        except run_reader.Damaged:
            return None, folder.name.removesuffix(PARTIAL)
        status = manifest.get("status") if isinstance(manifest, dict) else None
        if folder.name.endswith(PARTIAL):  # still being written: not a published outcome
            status = None
        return (str(status) if status else None), folder.name.removesuffix(PARTIAL)

    def forget(self) -> None:
        """Remove the job's record (its outcome has been shown; the run itself stays in the store)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def mark_cancelled(folder: Path | None) -> None:
    """Publish a killed run's ``.partial`` folder as ``cancelled`` (no-op for anything else).

    The store's own :meth:`RunStore.cancel` does it; this finds the store and the run id from the folder.
    """
    if folder is None or not folder.name.endswith(PARTIAL) or not folder.is_dir():
        return
    RunStore(folder.parent).cancel(folder.name.removesuffix(PARTIAL), "cancelled from the dashboard")


def cancel_message(status: str | None, run_id: str | None, runs_dir: Path) -> tuple[str, str]:
    """(kind, text) the page shows after a cancel, from the store's ``status`` of the job's run."""
    if status == "complete":
        return "success", f"the run finished before the cancel took effect: run {run_id} stored in {runs_dir}"
    if status == CANCELLED:
        return "warning", f"run cancelled; {run_id} is listed as cancelled under Runs"
    if run_id is None:
        return "warning", "run cancelled before it stored anything"
    return "warning", f"run cancelled; the store lists {run_id} as {status or 'unfinished'} under Runs"


def active_jobs(runs_dir: Path) -> list[Job]:
    """Jobs recorded under ``runs_dir`` whose outcome has not been shown yet, oldest first."""
    root = Path(runs_dir) / JOBS
    if not root.is_dir():
        return []
    jobs = [Job.attach(folder) for folder in sorted(root.iterdir()) if folder.is_dir()]
    return [j for j in jobs if j is not None]


def running_job_ids(runs_dir: Path) -> dict[str, JobStatus]:
    """Job id -> status of jobs still running (the Runs tab says "running", not "incomplete")."""
    return {j.job_id: s for j in active_jobs(runs_dir) if (s := j.poll()).state == "running"}
