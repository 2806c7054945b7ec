"""Backtests run in worker processes, for the dashboard.

A job is ``backtest run ... --json`` in a child process (``python -m engine.cli``):
training never runs in the Streamlit script thread, the page stays responsive,
and every model, tensor and numba cache is freed when the child exits, so the
server's memory stays flat however many runs a session makes. The child writes
its progress to a JSON file that :meth:`Job.poll` reads, its result into the
same store the CLI uses, and its JSON payload to a file the job reads at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class JobStatus:
    state: str  # "running", "done", "failed"
    stage: str = ""
    done: int = 0
    total: int = 0
    run_id: str | None = None
    error: str = ""
    payload: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


class Job:
    """One ``backtest run`` in a child process."""

    def __init__(
        self, args: list[str], *, runs_dir: Path | None = None, cache_dir: Path | None = None
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="stockrnn-job-"))
        self.progress = self.folder / "progress.json"
        self.output = self.folder / "result.json"
        self.errors = self.folder / "stderr.txt"
        command = [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            *args,
            "--json",
            "--progress-file",
            str(self.progress),
        ]
        if runs_dir is not None:
            command += ["--runs-dir", str(runs_dir)]
        if cache_dir is not None:
            command += ["--cache-dir", str(cache_dir)]
        self.command = command
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.output, "wb") as out, open(self.errors, "wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=Path.cwd())

    def poll(self) -> JobStatus:
        code = self.process.poll()
        if code is None:
            status = JobStatus("running")
            try:
                latest = json.loads(self.progress.read_text())
                status.stage, status.done, status.total = latest["stage"], latest["done"], latest["total"]
            except (OSError, ValueError, KeyError):
                pass
            return status
        if code == 0:
            try:
                payload = json.loads(self.output.read_text())
            except (OSError, ValueError) as exc:
                return JobStatus("failed", error=f"unreadable result: {exc}")
            return JobStatus("done", run_id=payload.get("run_id"), payload=payload)
        text = self.errors.read_text(errors="replace").strip().splitlines()
        message = next((line for line in reversed(text) if line.strip()), f"exit code {code}")
        return JobStatus("failed", error=message)

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
