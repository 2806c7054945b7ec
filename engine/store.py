"""The results store: one folder per run under a runs directory.

Layout of ``<runs_dir>/<run_id>/``::

    manifest.json    config, data fingerprint, package versions, seeds, status, times
    metrics.json     the run's results in their one JSON form (engine.results)
    equity.parquet   date, strategy, role, member, equity   (trading period)
    weights.parquet  date, strategy, role, member, ticker, weight   (decision rows only)
    checkpoint/      online strategies' state, to continue the run (engine.checkpoints)

Atomicity: a run is written in ``<run_id>.partial/`` and renamed to ``<run_id>/``
only when every file is on disk, so a killed run never looks complete; its
leftover ``.partial`` folder is listed as ``incomplete``. A folder whose manifest
is missing or unreadable is listed as ``broken`` and never crashes a listing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine import checkpoints
from engine.paths import check_runs_dir
from engine.results import RunResult, clean
from feeds.errors import InputError

PARTIAL = ".partial"
COMPLETE, FAILED, INCOMPLETE, BROKEN, RUNNING = "complete", "failed", "incomplete", "broken", "running"


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id: ``YYYYMMDD-HHMMSS-xxxxxx``."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to ``path`` via a temp file and rename (never a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(clean(payload), fh, indent=2, allow_nan=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class RunInfo:
    """A row of ``backtest runs``."""

    run_id: str
    path: Path
    status: str
    manifest: dict[str, Any]
    error: str = ""

    @property
    def created(self) -> str:
        return str(self.manifest.get("created_at", ""))[:19]


class RunStore:
    """Runs under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = check_runs_dir(Path(root))

    # writing -------------------------------------------------------------------------
    def begin(self, run_id: str, manifest: dict[str, Any]) -> Path:
        """Create the partial folder of a new run with a ``running`` manifest."""
        folder = self.root / f"{run_id}{PARTIAL}"
        folder.mkdir(parents=True, exist_ok=False)
        write_json_atomic(folder / "manifest.json", {**manifest, "run_id": run_id, "status": RUNNING})
        return folder

    def commit(self, result: RunResult, manifest: dict[str, Any]) -> Path:
        """Write the results of a finished run and publish it atomically."""
        folder = self.root / f"{result.run_id}{PARTIAL}"
        payload = result.to_dict()
        _write_frames(folder, result)
        checkpoints.save(folder, [r.checkpoint for r in result.strategies if r.checkpoint is not None])
        write_json_atomic(folder / "metrics.json", payload)
        write_json_atomic(
            folder / "manifest.json",
            {
                **manifest,
                "run_id": result.run_id,
                "status": COMPLETE,
                "headline": _headline(payload),
            },
        )
        return self._publish(folder, result.run_id)

    def fail(self, run_id: str, manifest: dict[str, Any], error: str) -> Path:
        """Record a run that failed, with its error message, and publish it."""
        folder = self.root / f"{run_id}{PARTIAL}"
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            folder / "manifest.json", {**manifest, "run_id": run_id, "status": FAILED, "error": error}
        )
        return self._publish(folder, run_id)

    def _publish(self, folder: Path, run_id: str) -> Path:
        final = self.root / run_id
        _fsync_dir(folder)
        os.rename(folder, final)
        _fsync_dir(self.root)
        return final

    # reading -------------------------------------------------------------------------
    def list(self) -> list[RunInfo]:
        """Every run folder, newest first, with its status (never raises on bad folders)."""
        if not self.root.is_dir():
            return []
        infos = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            infos.append(self._info(folder))
        return sorted(infos, key=lambda i: i.run_id, reverse=True)

    def _info(self, folder: Path) -> RunInfo:
        partial = folder.name.endswith(PARTIAL)
        run_id = folder.name.removesuffix(PARTIAL)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("manifest is not an object")
        except (OSError, ValueError) as exc:
            return RunInfo(
                run_id, folder, INCOMPLETE if partial else BROKEN, {}, f"unreadable manifest: {exc}"
            )
        if partial:
            return RunInfo(run_id, folder, INCOMPLETE, manifest, "never finished (killed, or still running)")
        status = manifest.get("status", BROKEN)
        if status == COMPLETE and not (folder / "metrics.json").is_file():
            return RunInfo(run_id, folder, BROKEN, manifest, "metrics.json is missing")
        return RunInfo(run_id, folder, status, manifest, str(manifest.get("error", "")))

    def find(self, ref: str) -> RunInfo:
        """A run by id, unique id prefix, or ``latest``."""
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

    def load_metrics(self, ref: str) -> tuple[RunInfo, dict[str, Any]]:
        """The JSON results of a complete run."""
        info = self.find(ref)
        if info.status != COMPLETE:
            raise InputError(
                f"run {info.run_id} is {info.status}" + (f": {info.error}" if info.error else "")
            )
        try:
            metrics = json.loads((info.path / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"run {info.run_id}: cannot read metrics.json: {exc}") from exc
        return info, metrics

    def load_equity(self, ref: str) -> pl.DataFrame:
        """Equity curves of a complete run: date, strategy, role, member, equity."""
        info = self.find(ref)
        return pl.read_parquet(info.path / "equity.parquet")

    def load_weights(self, ref: str) -> pl.DataFrame:
        """Decision rows of a complete run: date, strategy, role, member, ticker, weight."""
        info = self.find(ref)
        return pl.read_parquet(info.path / "weights.parquet")

    def load_checkpoints(self, ref: str) -> dict[str, checkpoints.Checkpoint]:
        """Checkpoints of a complete run's online strategies, by strategy label."""
        return checkpoints.load(self.find(ref).path)

    def remove(self, ref: str) -> Path:
        info = self.find(ref)
        shutil.rmtree(info.path)
        return info.path


def _headline(payload: dict[str, Any]) -> dict[str, str]:
    """Key figures for listings: the first strategy's CAGR against buy-and-hold."""
    first = (payload["strategies"] or [payload["benchmark"]])[0]
    fmt = lambda v: "—" if v is None else f"{v * 100:.2f}%"  # noqa: E731
    return {
        "period": f"{payload['period']['start']}..{payload['period']['end']}",
        "strategy": first["name"],
        "cagr": fmt(first["cagr"]),
        "benchmark_cagr": fmt(payload["benchmark"]["cagr"]),
    }


def _write_frames(folder: Path, result: RunResult) -> None:
    equity_parts, weight_parts = [], []
    for item in (*result.strategies, *result.benchmarks):
        n, m = item.equity.shape
        equity_parts.append(
            pl.DataFrame(
                {
                    "date": np.tile(result.dates, m),
                    "strategy": item.name,
                    "role": item.role,
                    "member": np.repeat([str(x) for x in item.members], n),
                    "equity": item.equity.T.reshape(-1),
                }
            )
        )
        rows, cols = np.nonzero(~np.all(np.isnan(item.targets), axis=2))
        k = len(item.tickers)
        weight_parts.append(
            pl.DataFrame(
                {
                    "date": np.repeat(result.data_dates[rows], k),
                    "strategy": item.name,
                    "role": item.role,
                    "member": np.repeat(np.array([str(x) for x in item.members], dtype=object)[cols], k),
                    "ticker": np.tile(np.array(item.tickers, dtype=object), len(rows)),
                    "weight": item.targets[rows, cols].reshape(-1),
                },
                schema_overrides={"member": pl.String, "ticker": pl.String},
            )
        )
    pl.concat(equity_parts).write_parquet(folder / "equity.parquet")
    pl.concat(weight_parts).write_parquet(folder / "weights.parquet")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
