"""Checkpoints of online strategies: everything needed to continue a run later.

A run folder's ``checkpoint/`` holds, per online strategy, ``<n>.pt`` (its
``state_dict()`` after the last day: model weights, optimizer state, hidden state,
normalization statistics, pending activations) and ``<n>.json`` (which strategy,
the last day processed, a fingerprint of the data up to that day). The targets
decided so far are in ``<n>.targets.npy``. ``backtest update`` checks the
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
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.checkpoint import Checkpoint
from engine.store import writes
from feeds.errors import InputError

FOLDER = "checkpoint"


ARRAY_TAG = "__stockrnn_ndarray__"  # {ARRAY_TAG: tensor}: a numpy array in a saved state
_SCALARS = (str, int, float, bool, type(None))


class NotPlainData(TypeError):
    """A state holds something that is not a tensor or plain data (``where`` says what)."""


def _encode(value: Any, where: str, torch: Any) -> Any:
    """``value`` with numpy arrays tagged as tensors; NotPlainData for anything not plain."""
    if isinstance(value, torch.Tensor):
        return value.detach()
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
        meta = {
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
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            label, last_day = str(meta["label"]), int(meta["last_day"])
            last_date, fingerprint = str(meta["last_date"]), str(meta["data_fingerprint"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"checkpoint {meta_path}: unreadable ({type(exc).__name__}: {exc})") from None
        pt = folder / f"{n}.pt"
        try:
            # the restricted unpickler: tensors and plain containers only, nothing is called
            state = _decode(torch.load(pt, weights_only=True, map_location="cpu"))
        except (pickle.UnpicklingError, RuntimeError, ValueError, EOFError, OSError, AttributeError) as exc:
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise InputError(
                f"checkpoint {pt}: refused: it is not a file of tensors and plain data that this "
                f"program writes, and reading it could run code ({first})"
            ) from None
        try:
            targets = np.load(folder / f"{n}.targets.npy", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise InputError(f"checkpoint {folder / f'{n}.targets.npy'}: refused: {exc}") from None
        found[label] = Checkpoint(label, state, last_day, last_date, fingerprint, targets)
    return found
