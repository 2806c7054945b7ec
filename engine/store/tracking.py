"""Tracked runs: the stored runs ``backtest daily`` keeps current (``<runs>/tracked.json``).

One small JSON file in the runs directory maps a name to the newest run of its chain (the run
that ``daily`` continues next), the data spec it re-reads and the plugin files the user named
when tracking it (a run folder never names code by itself). Written atomically; a file that is
not what this module writes is refused with one line naming it, never half-read.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.store.run_store import RunStore, write_json_atomic
from feeds.errors import InputError

FILE = "tracked.json"
VERSION = 1
MAX_BYTES = 1 << 20  # a tracked-runs file is a few hundred bytes per run
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Tracked:
    """One tracked run: ``run_id`` is the newest run of the chain (what ``daily`` continues next)."""

    name: str
    run_id: str
    data: str
    plugins: tuple[str, ...] = ()


def check_name(name: str) -> str:
    """A tracked name becomes a folder name under ``signals/``: letters, digits, ``._-``, up to 64."""
    if not _NAME.match(name):
        raise InputError(
            f"--name {name!r}: use letters, digits, '.', '_' or '-' (up to 64), starting with one"
        )
    return name


def load(runs_dir: Path) -> dict[str, Tracked]:
    """The tracked runs of ``runs_dir`` by name ({} when none are tracked)."""
    path = Path(runs_dir) / FILE
    if not path.exists():
        return {}
    origin = str(path)
    if not path.is_file() or path.is_symlink():
        raise InputError(f"{origin}: not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{origin}: larger than {MAX_BYTES} bytes, not a tracked-runs file")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("version") != VERSION:
            raise ValueError(f"version {payload.get('version')!r}, expected {VERSION}")
        out = {}
        for name, entry in payload["runs"].items():
            plugins = entry.get("plugins", [])
            if not all(isinstance(v, str) for v in (entry["run_id"], entry["data"], *plugins)):
                raise ValueError(f"run {name!r}: run_id, data and plugins must be text")
            out[check_name(name)] = Tracked(name, entry["run_id"], entry["data"], tuple(plugins))
        return out
    except (ValueError, KeyError, TypeError, AttributeError, InputError) as exc:
        raise InputError(
            f"{origin}: not a tracked-runs file ({exc}); remove it and track the runs again"
        ) from None


def save(runs_dir: Path, tracked: dict[str, Tracked]) -> None:
    """Write the tracked runs atomically (a reader sees the old file or the new one)."""
    payload: dict[str, Any] = {
        "version": VERSION,
        "runs": {n: {k: v for k, v in asdict(t).items() if k != "name"} for n, t in sorted(tracked.items())},
    }
    for entry in payload["runs"].values():
        entry["plugins"] = list(entry["plugins"])
    write_json_atomic(Path(runs_dir) / FILE, payload, root=Path(runs_dir))


def track(store: RunStore, ref: str, name: str | None = None, plugins: tuple[str, ...] = ()) -> Tracked:
    """Track stored run ``ref`` under ``name`` (default: its first strategy's name); returns the entry."""
    from engine.config.trust import check_names

    info, _ = store.load_metrics(ref)
    config = info.manifest.get("config") or {}
    strategies = config.get("strategies") or [{"name": "run"}]
    # refused now rather than every evening: the plugins must be named (and again to `daily`)
    check_names((str(s.get("name", "")) for s in strategies), None, f"run {info.run_id}", plugins=plugins)
    default = re.sub(r"[^A-Za-z0-9._-]", "-", str(strategies[0].get("name", "run")))[:64]
    entry = Tracked(check_name(name or default), info.run_id, str(config.get("data", "sample")), plugins)
    tracked = load(store.root)
    tracked[entry.name] = entry
    save(store.root, tracked)
    return entry


def untrack(runs_dir: Path, name: str) -> None:
    """Stop tracking ``name`` (its runs and signals stay)."""
    tracked = load(runs_dir)
    if name not in tracked:
        raise InputError(f"no tracked run named {name!r} (backtest track --list)")
    del tracked[name]
    save(runs_dir, tracked)
