"""``backtest rerun RUN``: run a stored run's config again and check that the result is the same.

The stored config (``manifest.json``) is run as it is; before running, the data are
loaded and fingerprinted: when they differ from the run's (a ``backtest data
fetch`` added days, a file was edited) the rerun is refused, unless ``data`` is
given explicitly, in which case it is a new experiment on other data and nothing
is compared. On the same data, every number of the result (``metrics.json``
without the run id) and every equity curve (``equity.parquet``) must equal the
stored run's bit for bit (determinism); :class:`Rerun` says which, and what
differs first.

Like with like: the rerun runs on the device the run used (``manifest.json``
``device.used``; runs from before the setting ran on the CPU). When that device is
not here (a GPU run rerun on a CPU machine) it runs on this machine's device and
the verdict says so: CPU and GPU agree only to rounding, not bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config.run_config import RunConfig, validate
from engine.config.trust import check_config
from engine.pipeline.prepare import prepare
from engine.pipeline.progress import Progress
from engine.pipeline.results import SimulatedRun, clean
from engine.store.migrations import device_used
from engine.store.run_store import RunStore
from engine.workflows.record import run_and_store
from feeds.errors import InputError
from feeds.market import Market


@dataclass(frozen=True)
class Rerun:
    """The new run, the one it repeats, and the verdict."""

    result: SimulatedRun
    original: str  # run id
    compared: bool  # False when rerun on other data (--data)
    identical: bool
    message: str


def rerun(
    store: RunStore,
    ref: str,
    *,
    data: str | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    plugins: tuple[str, ...] = (),
    headline_models: tuple[str, ...] = (),
) -> Rerun:
    """Run ``ref``'s config again (on ``data`` if given) and store it as a new run tagged ``rerun_of``.

    ``plugins`` / ``headline_models``: the ``module:Class`` / ``file.py:Class`` strategies and the
    headline model the run names, named again by the user to allow importing / loading them (a run
    folder never does by itself; engine.config.trust).
    """
    info, stored = store.load_metrics(ref)
    config = validate(RunConfig, info.manifest.get("config"), f"run {info.run_id}: manifest.json config")
    check_config(config, f"run {info.run_id}", plugins=plugins, headline_models=headline_models)
    if data is not None:
        config = validate(RunConfig, {**config.model_dump(), "data": data}, "--data")
    config, device_note = _same_device(config, info.manifest)
    prepared = prepare(config, cache_dir=cache_dir, progress=progress)
    now = prepared.market.fingerprint()
    same_data = info.manifest.get("data", {}).get("fingerprint") == now
    if not same_data and data is None:
        raise InputError(_other_data(info.run_id, info.manifest, config.data, prepared.market, now))
    result = run_and_store(prepared, store, progress=progress, tags={"rerun_of": info.run_id})
    if not same_data:
        return Rerun(
            result, info.run_id, False, False, f"rerun of {info.run_id} on other data ({data}): not compared"
        )
    difference = first_difference(_comparable(stored), _comparable(result.to_dict()))
    if difference is None:
        old, new = store.load_equity(info.run_id), store.load_equity(result.run_id)
        if not old.equals(new):
            difference = "equity.parquet differs"
    return _verdict(result, info.run_id, difference, device_note, now, len(config.seeds))


def _other_data(run_id: str, manifest: dict[str, Any], spec: str, market: Market, now: str) -> str:
    """Why a rerun is refused: the run's data (from its manifest) and the data now differ."""
    days = manifest.get("data", {})
    return (
        f"run {run_id}: the data {spec} differ from the run's "
        f"({days.get('first')}..{days.get('last')}, {days.get('days')} days, "
        f"fingerprint {str(days.get('fingerprint'))[:12]}; "
        f"now {market.dates[0]}..{market.dates[-1]}, {market.n_days} days, "
        f"{now[:12]}): pass --data SPEC to rerun on other data"
    )


def _verdict(
    result: SimulatedRun, original: str, difference: str | None, device_note: str, now: str, n_seeds: int
) -> Rerun:
    """The verdict on the same data: identical (saying what was compared), or the first difference.

    ``now``: the data's fingerprint; ``device_note``: set when the rerun ran on another device.
    """
    if difference is None and device_note:
        return Rerun(result, original, True, True, f"identical to run {original} {device_note}")
    if difference is None:
        n_strategies = len(result.strategies)
        # a deterministic strategy draws no seeds: "x 10 seeds" would claim ten runs of it
        seeded = any(e.stochastic for e in result.strategies)
        what = f"strateg{'y' if n_strategies == 1 else 'ies'}" + (f" x {n_seeds} seeds" if seeded else "")
        return Rerun(
            result,
            original,
            True,
            True,
            f"identical to run {original}: same data (fingerprint {now[:12]}), every metric and every "
            f"equity curve bit for bit ({n_strategies} {what}, {len(result.benchmarks)} benchmark(s))",
        )
    return Rerun(
        result,
        original,
        True,
        False,
        f"DIFFERS from run {original} on the same data{' ' + device_note if device_note else ''}: "
        f"{difference}",
    )


def _same_device(config: RunConfig, manifest: dict[str, Any]) -> tuple[RunConfig, str]:
    """``config`` pinned to the device the run used when it is here, and a note when it is not."""
    from engine.pipeline.prepare import run_device_of

    then = device_used(manifest)  # older runs: the CPU (engine.store.migrations)
    try:
        pinned = config.model_copy(update={"device": then})
        run_device_of(pinned)
        return pinned, ""
    except InputError:
        now = run_device_of(config)  # raises for a device named outright that is not here
        return config, (
            f"(on another device: the run used {then}, this rerun {now}, which is not here; "
            "devices agree only to rounding, so bits are not expected to match)"
        )


def _comparable(payload: dict[str, Any]) -> Any:
    """The stored JSON form without the run id and the config (the same config by construction)."""
    return json.loads(json.dumps(clean({k: v for k, v in payload.items() if k not in ("run_id", "config")})))


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """The path of the first value that differs between two JSON trees (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: present in only one"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path.lstrip('.')}: {a!r} vs {b!r}"
