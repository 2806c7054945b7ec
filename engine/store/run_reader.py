"""The one reader of run folders: every file is checked before it is trusted.

A run folder is untrusted input (it is copied between machines, edited by hand, damaged
by a full disk). Everything that reads one — ``backtest show|compare|rerun|update|runs``,
the dashboard, :func:`engine.api.load` — goes through :class:`engine.store.run_store.RunStore`,
and the store reads each file through the functions here:

- **file type**: a regular file only (a FIFO, a device or a folder is refused before it is
  opened, so nothing blocks); a symlink is followed only when it stays inside the run folder;
- **size**: bounded before reading (:data:`LIMITS`), so a 50 GB (or sparse) ``metrics.json``
  is refused from its size, never read;
- **schema**: ``manifest.json`` through the typed :class:`StoredManifest`, ``metrics.json``
  through the typed run result (:class:`engine.store.result_schema.RunResult`), the Parquet
  frames against :data:`FRAME_SCHEMAS` (names and dtypes, from the footer before the data).

Any failure is :class:`Damaged`, whose message names the file and says what is wrong; the
store turns it into the run's ``broken`` status (``runs`` lists it and every other run) and
into one line at exit 2 for commands. A run written by another version of this program whose
files do not fit this version's schema says both versions and how to recompute it. What older
versions left out of a folder (a manifest without digests, a time without a zone, ...) is read
through :mod:`engine.store.migrations`, the one place for read-time migrations.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from engine.store.frames import FRAME_SCHEMAS, FRAMES
from engine.store.locks import Claim
from engine.store.manifest import StoredManifest, versions
from engine.store.migrations import created_utc, recorded_digests
from engine.store.result_schema import parse_result
from feeds.errors import InputError

PARTIAL = ".partial"  # a run being written: <run_id>.partial/, renamed to <run_id>/ when complete
COMPLETE, FAILED, INCOMPLETE, BROKEN, RUNNING = "complete", "failed", "incomplete", "broken", "running"
CANCELLED = "cancelled"  # a dashboard job stopped by the user (engine.dashboard.jobs): published, removable


MiB = 1024**2
# the largest file of each kind a run writes, with room to spare: a metrics.json of 1,000 seeds
# x 5 strategies over 30 years is about 20 MiB; a manifest holds a config and versions
LIMITS: dict[str, int] = {"manifest.json": 16 * MiB, "metrics.json": 512 * MiB}


class Damaged(Exception):
    """A run's file is missing, of the wrong kind or size, or does not fit its schema.

    The message starts with the file's name (``metrics.json: ...``).
    """


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

    def sort_key(self) -> tuple[str, str]:
        """Newest first when sorted descending: recorded creation time (UTC), then run id."""
        when = created_utc(self.manifest)
        return (when.isoformat() if when else "", self.run_id)


def folder_info(root: Path, folder: Path) -> RunInfo:
    """The status of one folder of the runs directory ``root``, from the checks of its files."""
    partial = folder.name.endswith(PARTIAL)
    run_id = folder.name.removesuffix(PARTIAL)
    try:
        manifest, problem = read_manifest(folder), ""
    except Damaged as exc:
        manifest, problem = {}, str(exc)
    if partial:
        if Claim.is_held(root, claim_key(run_id)):
            return RunInfo(run_id, folder, RUNNING, manifest, "being written by a live process")
        return RunInfo(
            run_id,
            folder,
            INCOMPLETE,
            manifest,
            "never finished (killed or interrupted); `backtest runs --prune` removes it",
        )
    if problem:
        return RunInfo(run_id, folder, BROKEN, manifest, problem)
    if manifest.get("run_id") != run_id:
        return RunInfo(
            run_id,
            folder,
            BROKEN,
            manifest,
            f"the manifest is that of run {manifest.get('run_id')!r} (renamed or linked folder?)",
        )
    status = manifest.get("status")
    if status in (FAILED, CANCELLED):
        return RunInfo(run_id, folder, status, manifest, str(manifest.get("error", "")))
    if status != COMPLETE:
        return RunInfo(run_id, folder, BROKEN, manifest, f"status {status!r} in a published folder")
    try:
        checked_metrics(folder, manifest)
    except Damaged as exc:
        return RunInfo(run_id, folder, BROKEN, manifest, str(exc))
    return RunInfo(run_id, folder, COMPLETE, manifest, str(manifest.get("error", "")))


def claim_key(run_id: str) -> str:
    """The claim (engine.store.locks) a process holds while it writes run ``run_id``."""
    return f"run-{run_id}"


def regular_file(folder: Path, name: str) -> Path:
    """``folder/name`` when it is a regular file inside ``folder`` (a link only when it stays inside).

    Raises :class:`Damaged` for a missing file, a FIFO/device/folder, or a link leaving the folder.
    """
    path = folder / name
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise Damaged(f"{name} is missing") from None
    except OSError as exc:
        raise Damaged(f"{name}: unreadable ({exc.strerror or exc})") from None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            raise Damaged(f"{name} is a broken link") from None
        if not target.is_relative_to(folder.resolve()):
            raise Damaged(f"{name} is a link to {target}, outside the run folder: refused")
        path, info = target, os.stat(target)
    if not stat.S_ISREG(info.st_mode):
        raise Damaged(f"{name} is not a regular file ({_kind(info.st_mode)}): refused")
    return path


def read_bytes(folder: Path, name: str, limit: int) -> bytes:
    """The bytes of ``folder/name`` after the type check, refused above ``limit`` bytes."""
    path = regular_file(folder, name)
    try:
        # O_NONBLOCK: a FIFO swapped in after the check cannot block the open
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise Damaged(f"{name}: unreadable ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Damaged(f"{name} is not a regular file ({_kind(info.st_mode)}): refused")
        if info.st_size > limit:
            raise Damaged(f"{name} is {info.st_size:,} bytes, over the {limit:,} a run's {name} may hold")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise Damaged(f"{name} is over the {limit:,} bytes a run's {name} may hold")
    return data


def read_json(folder: Path, name: str, *, limit: int | None = None) -> Any:
    """``folder/name`` parsed as UTF-8 JSON, within ``limit`` bytes (default: its :data:`LIMITS`)."""
    data = read_bytes(folder, name, limit or LIMITS.get(name, 16 * MiB))
    if not data.strip():
        raise Damaged(f"{name} is empty")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Damaged(f"{name} is not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:
        raise Damaged(f"{name} is not JSON ({exc})") from None
    except RecursionError:
        raise Damaged(f"{name} is nested too deeply to be a run's JSON") from None


def read_manifest(folder: Path) -> dict[str, Any]:
    """The run's manifest as stored, after checking it against :class:`StoredManifest`."""
    payload = read_json(folder, "manifest.json")
    if not isinstance(payload, dict):
        raise Damaged(f"manifest.json is a JSON {type(payload).__name__}, not an object")
    try:
        StoredManifest.model_validate(payload)
    except ValidationError as exc:
        raise Damaged(f"manifest.json: {_first_error(exc)}") from None
    return payload


def read_metrics(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The run's ``metrics.json`` as stored, after checking it against the typed run result.

    A payload that does not fit, from a run another version wrote, says both versions.
    """
    payload = read_json(folder, "metrics.json")
    if not isinstance(payload, dict):
        raise Damaged(f"metrics.json is a JSON {type(payload).__name__}, not an object")
    try:
        parse_result(payload)
    except InputError as exc:
        problem = str(exc).split(": ", 1)[-1]
        wrote, this = (manifest.get("versions") or {}).get("stock-rnn"), program_version()
        if wrote and this and wrote != this:
            raise Damaged(
                f"metrics.json was written by stock-rnn {wrote} and does not fit the results of this "
                f"version, stock-rnn {this} ({problem}); recompute it with this version: "
                f"`backtest show {manifest['run_id']} --config > run.toml && backtest run --config run.toml`"
            ) from None
        raise Damaged(f"metrics.json: {problem}") from None
    if payload.get("run_id") != manifest["run_id"]:
        raise Damaged(f"metrics.json is that of run {payload.get('run_id')!r}")
    return payload


def digests(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file of a run folder but its manifest (``checkpoint/0.pt`` style names).

    Recorded in the manifest when a run is published (``files``), so that any later change to a
    file — a flipped byte in a Parquet page that its schema cannot show — is found on reading.
    """
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        if name != "manifest.json" and not path.name.startswith("."):
            found[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return found


def check_digests(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest's ``files`` records is there with that size and SHA-256.

    Sizes are compared first, so a changed size is found without reading the file. Runs
    published before digests were recorded have none and are checked by schema alone
    (:func:`engine.store.migrations.recorded_digests`).
    """
    recorded = recorded_digests(manifest)
    for name, want in recorded.items():
        path = regular_file(folder, name)
        size = path.stat().st_size
        if size != want["bytes"]:
            raise Damaged(f"{name} is {size:,} bytes, not the {want['bytes']:,} it had when stored")
    for name, want in recorded.items():
        if _sha256(regular_file(folder, name)) != want["sha256"]:
            raise Damaged(f"{name} has changed since the run was stored (its SHA-256 differs)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_frame(folder: Path, name: str) -> None:
    """``folder/name`` is a Parquet file whose footer declares :data:`FRAME_SCHEMAS` [name]."""
    path = regular_file(folder, name)
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as exc:  # whatever the Parquet reader says about a damaged file
        raise Damaged(f"{name} is not a readable Parquet file ({_one_line(exc)})") from None
    _same_schema(name, schema)


def read_frame(folder: Path, name: str) -> pl.DataFrame:
    """The frame ``folder/name`` read after the type check, its schema checked."""
    path = regular_file(folder, name)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # whatever the Parquet reader says about a damaged file
        raise Damaged(f"{name} is not a readable Parquet file ({_one_line(exc)})") from None
    _same_schema(name, frame.schema)
    return frame.select(list(FRAME_SCHEMAS[name]))


# what the full check found per folder, by the files' (inode, size, mtime): a listing of many
# runs (the dashboard, `runs`, sweeps) parses each metrics.json once per process, not once per call
_CHECKED: dict[Path, tuple[tuple[tuple[int, int, int], ...], dict[str, Any] | str]] = {}


def checked_metrics(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The stored metrics of a published complete run after every file is checked.

    The checks of engine.store.run_reader: each file's type and size, metrics.json against the
    typed result, the frames' schemas, every checkpoint present. Raises :class:`Damaged`.
    """
    signature = _signature(folder)
    seen = _CHECKED.get(folder)
    if seen is not None and seen[0] == signature:
        if isinstance(seen[1], str):
            raise Damaged(seen[1])
        return seen[1]
    try:
        metrics = read_metrics(folder, manifest)  # first: a run another version wrote says so
        check_digests(folder, manifest)
        for name in FRAMES:
            check_frame(folder, name)
        _check_checkpoints(folder)
    except Damaged as exc:
        _CHECKED[folder] = (signature, str(exc))
        raise
    _CHECKED[folder] = (signature, metrics)
    return metrics


def _signature(folder: Path) -> tuple[tuple[int, int, int], ...]:
    found = []
    names = ["manifest.json", "metrics.json", *FRAMES]
    cp = folder / "checkpoint"  # engine.store.checkpoints.FOLDER
    if cp.is_dir() and not cp.is_symlink():
        names += sorted(f"checkpoint/{p.name}" for p in cp.iterdir())
    for name in names:
        try:
            info = os.lstat(folder / name)
        except OSError:
            found.append((-1, -1, -1))
        else:
            found.append((info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _check_checkpoints(folder: Path) -> None:
    from engine.store import checkpoints  # lazy: the checkpoint reader may use this module

    cp = folder / checkpoints.FOLDER
    if cp.is_dir() and not cp.is_symlink():
        for meta in cp.glob("*.json"):
            for suffix in (".pt", ".targets.npy"):
                if not (cp / f"{meta.stem}{suffix}").is_file():
                    raise Damaged(f"checkpoint {meta.stem}{suffix} is missing")
    elif cp.exists() or cp.is_symlink():
        raise Damaged(f"{checkpoints.FOLDER}/ is not a folder of this run: refused")


def program_version() -> str:
    """This program's installed version ('' when it is not installed, e.g. run from a checkout)."""
    return versions().get("stock-rnn", "")


def _same_schema(name: str, found: Any) -> None:
    found = dict(found)
    for column, dtype in FRAME_SCHEMAS[name].items():
        if column not in found:
            raise Damaged(f"{name} lacks the column {column!r}")
        if found[column] != dtype:
            raise Damaged(f"{name}: column {column!r} is {found[column]}, not {dtype}")


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:200]


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a plain file"
