"""Checkpoints of online strategies: everything needed to continue a run later.

A run folder's ``checkpoint/`` holds, per online strategy, ``<n>.pt`` (its
``state_dict()`` after the last day: model weights, optimizer state, hidden state,
normalization statistics, pending activations; a state file of
:mod:`engine.store.state_file`, written and read without torch since format 3: the
name is kept from when ``torch.save`` wrote it) and ``<n>.json`` (which strategy,
the last day processed, a fingerprint of the data up to that day). The targets
decided so far are in ``<n>.targets.npy``; ``<n>.days.npy`` holds one 64-bit digest
per day of the data (``Market.day_digests``), so that when the data's past changed
the refusal can name the first day that differs (absent in older checkpoints). ``backtest update`` checks the
fingerprint against the new data before continuing, so a run is only ever extended
over the very data it was computed on.

Nothing read from a run folder can execute code: run folders are copied between
machines (docs/scaling.md), so a checkpoint is untrusted input. ``<n>.pt`` holds
arrays, tensors and plain data only (dicts with str or int keys, lists, tuples,
str, int, float, bool, None) as JSON and ``.npy`` members, parsed and never
unpickled (a ``torch.save`` pickle put in its place is refused unread); the targets
are read with ``allow_pickle=False``. A file that holds anything else is refused with
:class:`InputError` (exit 2) naming it. A strategy whose state is not plain data
is stored without a checkpoint (with a warning) rather than with an unsafe one.

Checkpoints are written inside the run's partial folder and published with it,
atomically; an update writes a new run, so a crash mid-update leaves the previous
run and its checkpoint untouched.

What a file declares is checked before anything is allocated for it: an ``.npy``
header's shape times its item size must be exactly the bytes that follow it (also
for each array inside ``<n>.pt``, whose members must be stored uncompressed within
the file's size); nothing may declare more than :data:`MAX_BYTES`.
``<n>.json`` records the program version that wrote it and
the checkpoint :data:`FORMAT`; a checkpoint of another version (or of one that did
not record it) is refused: its state need not mean what this version's strategies
mean by it. ``backtest update`` then checks the state against the model it is loaded
into (engine.store.checkpoint_state, engine.workflows.update) before the run starts.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.checkpoint import Checkpoint
from engine.store import writes
from engine.store.checkpoint_state import describe
from engine.store.state_file import NotPlainData, StateFileError, checked_npy_header, read_state, write_state
from feeds.errors import InputError

FOLDER = "checkpoint"
FORMAT = 3  # the checkpoint format: 3 = <n>.pt a state file without pickle; 2 = torch.save, version recorded
MAX_BYTES = 64 * 2**30  # the most one checkpoint file (a .pt or a targets .npy) may declare [bytes]


def save(run_folder: Path, checkpoints: list[Checkpoint], *, root: Path | None = None) -> None:
    """Write checkpoints into ``run_folder/checkpoint/`` (the folder is published atomically later).

    Every file through ``engine.store.writes`` (atomic, never through a link; ``root``: the
    runs directory, whose levels down to the file are checked for links).

    A state that is not tensors and plain data is skipped with a warning: the run is
    stored without that checkpoint (``backtest update`` then says so) rather than
    with a file that would need full unpickling to read.
    """
    if not checkpoints:
        return
    folder = run_folder / FOLDER
    for n, cp in enumerate(checkpoints):
        built = io.BytesIO()
        try:
            write_state(built, cp.state)  # checked (and built) before anything is written
        except NotPlainData as exc:
            warnings.warn(
                f"strategy {cp.label}: stored without a checkpoint: its state_dict() holds {exc} "
                "(checkpoints hold tensors, numpy arrays, numbers, strings, lists and dicts only)",
                UserWarning,
                stacklevel=2,
            )
            continue
        writes.make_dirs(folder, root)
        writes.write_bytes(folder / f"{n}.pt", built.getbuffer(), root=root)
        writes.write_stream(
            folder / f"{n}.targets.npy",
            lambda fh, cp=cp: np.save(fh, cp.targets, allow_pickle=False),
            root=root,
        )
        if cp.day_digests is not None:
            writes.write_stream(
                folder / f"{n}.days.npy",
                lambda fh, cp=cp: np.save(fh, cp.day_digests, allow_pickle=False),
                root=root,
            )
        meta = {
            "format": FORMAT,
            "stock_rnn_version": program_version(),
            "label": cp.label,
            "last_day": cp.last_day,
            "last_date": cp.last_date,
            "data_fingerprint": cp.data_fingerprint,
        }
        writes.write_text(folder / f"{n}.json", json.dumps(meta, indent=2) + "\n", root=root)


def load(run_folder: Path) -> dict[str, Checkpoint]:
    """Checkpoints of a run by strategy label (empty when it has none).

    Raises InputError naming the file when one is unreadable or holds anything but
    tensors and plain data; nothing in the files is executed.
    """
    folder = run_folder / FOLDER
    if not folder.is_dir():
        return {}
    found = {}
    for meta_path in sorted(folder.glob("*.json")):
        n = meta_path.stem
        try:
            if meta_path.stat().st_size > 1_000_000:  # a few hundred bytes when this program wrote it
                raise ValueError(f"{meta_path.stat().st_size} bytes")
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            _check_version(meta_path, run_folder.name, meta)
            label, last_day = str(meta["label"]), int(meta["last_day"])
            last_date, fingerprint = str(meta["last_date"]), str(meta["data_fingerprint"])
        except InputError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"checkpoint {meta_path}: unreadable ({type(exc).__name__}: {exc})") from None
        pt = folder / f"{n}.pt"
        state = _load_state(pt)
        targets = _load_npy(folder / f"{n}.targets.npy")
        found[label] = Checkpoint(
            label,
            state,
            last_day,
            last_date,
            fingerprint,
            targets,
            _load_days(folder / f"{n}.days.npy", last_day),
        )
    return found


def program_version() -> str:
    """This program's version (the installed stock-rnn's; ``unknown`` when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version("stock-rnn")  # what engine.store.manifest.versions() records too
    except metadata.PackageNotFoundError:
        return "unknown"


def _check_version(path: Path, run: str, meta: Any) -> None:
    """Refuse a checkpoint that another version of this program wrote (or one that did not say)."""
    if not isinstance(meta, dict):
        raise TypeError(f"a JSON object was expected, not {type(meta).__name__}")
    ours, theirs = program_version(), meta.get("stock_rnn_version")
    fmt = meta.get("format")
    if theirs == ours and fmt == FORMAT:
        return
    written = f"stock-rnn {theirs}" if isinstance(theirs, str) and theirs else "an older version"
    if written != "an older version" and fmt != FORMAT:
        written += f" (checkpoint format {fmt})"
    raise InputError(
        f"checkpoint {path}: written by {written}, and this is stock-rnn {ours} (checkpoint format "
        f"{FORMAT}); a run is continued only by the version that wrote it: compute it again with "
        f"`backtest rerun {run}` (or a fresh `backtest run`) and update that run instead"
    )


def _regular_size(path: Path) -> int:
    """The size of ``path`` in bytes; InputError unless it is a regular file (no FIFO, no device)."""
    import stat

    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"checkpoint {path}: unreadable ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"checkpoint {path}: refused: not a regular file")
    return info.st_size


def _load_days(path: Path, last_day: int) -> np.ndarray | None:
    """The per-day digests (``last_day + 1`` uint64), or None where the checkpoint has none (older runs)."""
    if not path.exists() and not path.is_symlink():
        return None
    days = _load_npy(path)
    if days.dtype != np.uint64 or days.shape != (last_day + 1,):
        raise InputError(
            f"checkpoint {path}: refused: it holds {describe(days)}, expected array ({last_day + 1},) uint64"
        )
    return days


def _load_npy(path: Path) -> np.ndarray:
    """An .npy of numbers whose header agrees with the file's size, checked before it is read."""
    size = _regular_size(path)
    try:
        with path.open("rb") as f:
            checked_npy_header(f, size, MAX_BYTES)
            f.seek(0)  # read_array reads the (checked) header again
            return np.lib.format.read_array(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        raise InputError(f"checkpoint {path}: refused: {exc}") from None


def _load_state(path: Path) -> Any:
    """A state file (:mod:`engine.store.state_file`), every size checked before it is read."""
    _regular_size(path)
    try:
        return read_state(path, MAX_BYTES)
    except StateFileError as exc:
        raise InputError(f"checkpoint {path}: refused: {exc}") from None
    except OSError as exc:
        raise InputError(f"checkpoint {path}: unreadable ({exc.strerror or exc})") from None
