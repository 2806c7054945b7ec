"""Checkpoints of online strategies: everything needed to continue a run later.

A run folder's ``checkpoint/`` holds, per online strategy, ``<n>.pt`` (its
``state_dict()`` after the last day: model weights, optimizer state, hidden state,
normalization statistics, pending activations) and ``<n>.json`` (which strategy,
the last day processed, a fingerprint of the data up to that day). The targets
decided so far are in ``<n>.targets.npy``; ``<n>.days.npy`` holds one 64-bit digest
per day of the data (``Market.day_digests``), so that when the data's past changed
the refusal can name the first day that differs (absent in older checkpoints). ``backtest update`` checks the
fingerprint against the new data before continuing, so a run is only ever extended
over the very data it was computed on.

Nothing read from a run folder can execute code: run folders are copied between
machines (docs/scaling.md), so a checkpoint is untrusted input. ``<n>.pt`` holds
tensors and plain data only (dicts with str or int keys, lists, tuples, str, int,
float, bool, None; numpy arrays are stored as tensors and given back as arrays)
and is read with ``torch.load(weights_only=True)``, torch's restricted unpickler,
which refuses any other object instead of constructing it; the targets are read
with ``allow_pickle=False``. A file that holds anything else is refused with
:class:`InputError` (exit 2) naming it. A strategy whose state is not plain data
is stored without a checkpoint (with a warning) rather than with an unsafe one.

Checkpoints are written inside the run's partial folder and published with it,
atomically; an update writes a new run, so a crash mid-update leaves the previous
run and its checkpoint untouched.

What a file declares is checked before anything is allocated for it: an ``.npy``
header's shape times its item size must be exactly the bytes that follow it, and a
``.pt`` is first opened memory-mapped (nothing read into memory) and every tensor
must address no more bytes than its storage holds (so a stride-0 view of 8 bytes
cannot declare 32 GB) and no storage more than the file; nothing may declare more
than :data:`MAX_BYTES`. ``<n>.json`` records the program version that wrote it and
the checkpoint :data:`FORMAT`; a checkpoint of another version (or of one that did
not record it) is refused: its state need not mean what this version's strategies
mean by it. ``backtest update`` then checks the state against the model it is loaded
into (engine.store.checkpoint_state, engine.workflows.update) before the run starts.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.checkpoint import Checkpoint
from engine.store import writes
from engine.store.checkpoint_state import describe
from feeds.errors import InputError

FOLDER = "checkpoint"
FORMAT = 2  # the checkpoint format: 2 = version recorded, sizes checked (1: before issue 23)
MAX_BYTES = 64 * 2**30  # the most one checkpoint file (a .pt or a targets .npy) may declare [bytes]


ARRAY_TAG = "__stockrnn_ndarray__"  # {ARRAY_TAG: tensor}: a numpy array in a saved state
_SCALARS = (str, int, float, bool, type(None))


class NotPlainData(TypeError):
    """A state holds something that is not a tensor or plain data (``where`` says what)."""


def _encode(value: Any, where: str, torch: Any) -> Any:
    """``value`` with numpy arrays tagged as tensors; NotPlainData for anything not plain."""
    if isinstance(value, torch.Tensor):
        return value.detach().contiguous()  # no view addresses more bytes than it shows (load checks)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise NotPlainData(f"{where}: a numpy array of dtype {value.dtype}")
        return {ARRAY_TAG: torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str | int)), None)
        if bad is not None:
            raise NotPlainData(f"{where}: a dict key of type {type(bad).__name__}")
        return {k: _encode(v, f"{where}.{k}", torch) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_encode(v, f"{where}[{i}]", torch) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise NotPlainData(f"{where}: {type(value).__module__}.{type(value).__qualname__}")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY_TAG}:
            return value[ARRAY_TAG].numpy()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_decode(v) for v in value)
    return value


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
    import torch  # only runs with online strategies pay the import

    folder = run_folder / FOLDER
    for n, cp in enumerate(checkpoints):
        try:
            state = _encode(cp.state, "state", torch)
        except NotPlainData as exc:
            warnings.warn(
                f"strategy {cp.label}: stored without a checkpoint: its state_dict() holds {exc} "
                "(checkpoints hold tensors, numpy arrays, numbers, strings, lists and dicts only)",
                UserWarning,
                stacklevel=2,
            )
            continue
        writes.make_dirs(folder, root)
        writes.write_stream(folder / f"{n}.pt", lambda fh, state=state: torch.save(state, fh), root=root)
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
    import pickle

    import torch

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
        state = _load_pt(pt, torch, pickle)
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
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"npy format version {version}")
            if dtype.hasobject or dtype.kind not in "biufc":
                raise ValueError(f"dtype {dtype} (numbers only)")
            declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
            held = size - f.tell()
            if declared != held or declared > MAX_BYTES:
                raise ValueError(
                    f"its header declares shape {tuple(shape)} of {dtype} = {declared} bytes but the "
                    f"file holds {held} bytes after it"
                    + (f" (at most {MAX_BYTES} bytes are read)" if declared > MAX_BYTES else "")
                )
            f.seek(0)  # read_array reads the (checked) header again
            return np.lib.format.read_array(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, TypeError) as exc:
        raise InputError(f"checkpoint {path}: refused: {exc}") from None


def _load_pt(path: Path, torch: Any, pickle: Any) -> Any:
    """A .pt of tensors and plain data, opened memory-mapped and checked before its tensors are read."""
    size = _regular_size(path)
    try:
        # the restricted unpickler: tensors and plain containers only, nothing is called; mmap: the
        # storages stay on disk until each tensor has been checked
        raw = torch.load(path, weights_only=True, map_location="cpu", mmap=True)
    except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, OSError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"checkpoint {path}: refused: it is not a file of tensors and plain data that this "
            f"program writes, and reading it could run code ({first})"
        ) from None
    problem = _oversized(raw, "state", size, torch)
    if problem:
        raise InputError(f"checkpoint {path}: refused: {problem}")
    return _decode(_copied(raw, torch))


def _tensor_bytes(t: Any) -> int:
    """Bytes the tensor's elements occupy when materialised (numel x element size)."""
    return int(t.numel()) * int(t.element_size())


def _oversized(value: Any, where: str, file_size: int, torch: Any) -> str | None:
    """Why a tensor in ``value`` declares more than is stored, or None."""
    if isinstance(value, torch.Tensor):
        storage = value.untyped_storage().nbytes()
        shown = _tensor_bytes(value)
        if storage > file_size or shown > storage or shown > MAX_BYTES:
            return (
                f"{where}: a tensor of shape {tuple(value.shape)} {str(value.dtype).removeprefix('torch.')} "
                f"declares {shown} bytes over a storage of {storage} bytes in a file of {file_size} "
                "(this program writes every tensor whole)"
            )
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        problem = _oversized(
            item, f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]", file_size, torch
        )
        if problem:
            return problem
    return None


def _copied(value: Any, torch: Any) -> Any:
    """``value`` with every (memory-mapped) tensor copied into memory, so the file is let go."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, dict):
        return {k: _copied(v, torch) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v, torch) for v in value]
    if isinstance(value, tuple):
        return tuple(_copied(v, torch) for v in value)
    return value
