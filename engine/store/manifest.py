"""What a run's ``manifest.json`` records: config, data identity, versions, plugins, times (UTC).

:class:`StoredManifest` is its typed form, what the reader of run folders checks it against
(engine.store.run_reader).

:func:`run_manifest` is written before a run computes (status ``running``);
:func:`finished_manifest` adds the finishing time and duration when it is stored
(:meth:`engine.store.run_store.RunStore.record`, the one writer of run folders).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from engine.config.run_config import RunConfig
from engine.pipeline.identity import data_identity
from strategies.base import Strategy

if TYPE_CHECKING:
    from engine.pipeline.prepare import Prepared
    from engine.pipeline.results import SimulatedRun

VERSIONED = ("stock-rnn", "numpy", "pandas", "polars", "vectorbt", "numba", "torch", "pydantic")


class FileDigest(BaseModel):
    """A stored file's size and SHA-256, recorded when the run is published."""

    bytes: int
    sha256: str


class StoredHeadline(BaseModel):
    """A run's key figures for listings (engine.store.run_store writes them when it publishes)."""

    model_config = ConfigDict(extra="allow")

    period: str = ""
    strategy: str = ""
    cagr: str = ""
    benchmark_cagr: str = ""
    cagr_value: float | None = None
    benchmark_cagr_value: float | None = None


class StoredManifest(BaseModel):
    """The fields of ``manifest.json`` that readers rely on (engine.store.manifest writes them).

    Open: other keys are kept as they are. ``config`` is checked as a RunConfig where it is
    used (rerun, update, ``show --config``), so a listing shows a run whose config another
    version wrote.
    """

    model_config = ConfigDict(extra="allow")

    run_id: str
    status: str
    created_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    error: str = ""
    config: dict[str, Any] = {}
    frequency: str | None = None
    strategies: list[str] = []
    seeds: list[int] = []
    data: dict[str, Any] = {}
    versions: dict[str, str] = {}
    device: dict[str, Any] = {}
    plugins: dict[str, dict[str, Any]] = {}
    headline: StoredHeadline = StoredHeadline()
    parent: str | None = None
    job: str | None = None
    sweep: str | None = None
    cell: str | None = None  # a sweep cell's key (engine.config.sweep_spec.cell_key)
    cell_label: str | None = None
    files: dict[str, FileDigest] = {}


def versions() -> dict[str, str]:
    """Python's and the installed packages' versions (packages not installed are left out)."""
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def device_record(config: RunConfig) -> dict[str, Any]:
    """The device setting and what it resolved to here, with torch's and CUDA's versions.

    Keys: ``requested`` (the setting), ``used`` (``cpu``, ``cuda:0`` ...), and where
    torch is loaded ``torch``, ``cuda`` (None for a CPU build), ``gpus``, ``gpu``
    (name), ``cudnn``, ``mps`` (see :func:`strategies.nn.device.device_info`).
    """
    import sys

    from engine.pipeline.prepare import run_device_of

    used = run_device_of(config)
    record: dict[str, Any] = {"requested": config.device, "used": used}
    if "torch" in sys.modules:  # a numpy-only run does not import torch to describe it
        from strategies.nn.device import device_info

        record.update(device_info())
    return record


def plugin_origin(cls: type[Strategy]) -> dict[str, str]:
    """Where a strategy's code comes from: its distribution and version, or its file's SHA-256."""
    from engine.store.provenance import code_origin

    return code_origin(cls)


def run_manifest(
    prepared: Prepared, *, parent: str | None = None, tags: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What a run's ``manifest.json`` says before it runs (config, data identity, versions, tags)."""
    manifest: dict[str, Any] = {
        # UTC, to the microsecond: `latest` and listings order by it (two runs a second apart is common)
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        "config": prepared.config.model_dump(mode="json"),
        "frequency": prepared.frequency,
        "strategies": [s.label() for s in prepared.strategies],
        "seeds": list(prepared.config.seeds),
        "data": data_identity(prepared.config, prepared.market),
        "versions": versions(),
        "device": device_record(prepared.config),
        "plugins": {s.label(): plugin_origin(type(s)) for s in prepared.strategies},
        **(tags or {}),
    }
    if parent:
        manifest["parent"] = parent
    if os.environ.get("STOCKRNN_JOB"):  # a dashboard worker: links the run to its job (engine.dashboard.jobs)
        manifest["job"] = os.environ["STOCKRNN_JOB"]
    return manifest


def finished_manifest(
    manifest: dict[str, Any], started: float, result: SimulatedRun | None = None
) -> dict[str, Any]:
    """``manifest`` with ``finished_at`` (UTC, seconds), ``duration_s`` since ``started`` (``time.time()``)
    and, when some strategies of ``result`` failed, their errors."""
    finished = {**manifest, "finished_at": _now(), "duration_s": round(time.time() - started, 3)}
    if result is not None and result.failures:
        finished["error"] = "; ".join(f"{label} failed: {message}" for label, message in result.failures)
    return finished


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
