"""Checkpoints of online strategies: everything needed to continue a run later.

A run folder's ``checkpoint/`` holds, per online strategy, ``<n>.pt`` (its
``state_dict()`` after the last day: model weights, optimizer state, hidden state,
normalization statistics, pending activations) and ``<n>.json`` (which strategy,
the last day processed, a fingerprint of the data up to that day). The targets
decided so far are in ``<n>.targets.npy``. ``backtest update`` checks the
fingerprint against the new data before continuing, so a run is only ever extended
over the very data it was computed on.

Checkpoints are written inside the run's partial folder and published with it,
atomically; an update writes a new run, so a crash mid-update leaves the previous
run and its checkpoint untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FOLDER = "checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """State of one online strategy after row ``last_day`` of its data."""

    label: str
    state: dict[str, Any]
    last_day: int
    last_date: str
    data_fingerprint: str  # Market.head(last_day + 1).fingerprint()
    targets: np.ndarray  # (last_day + 1, n_members, n_tickers)


def save(run_folder: Path, checkpoints: list[Checkpoint]) -> None:
    """Write checkpoints into ``run_folder/checkpoint/`` (the folder is published atomically later)."""
    if not checkpoints:
        return
    import torch  # only runs with online strategies pay the import

    folder = run_folder / FOLDER
    folder.mkdir(exist_ok=True)
    for n, cp in enumerate(checkpoints):
        torch.save(cp.state, folder / f"{n}.pt")
        np.save(folder / f"{n}.targets.npy", cp.targets)
        meta = {
            "label": cp.label,
            "last_day": cp.last_day,
            "last_date": cp.last_date,
            "data_fingerprint": cp.data_fingerprint,
        }
        (folder / f"{n}.json").write_text(json.dumps(meta, indent=2) + "\n")


def load(run_folder: Path) -> dict[str, Checkpoint]:
    """Checkpoints of a run by strategy label (empty when it has none)."""
    folder = run_folder / FOLDER
    if not folder.is_dir():
        return {}
    import torch

    found = {}
    for meta_path in sorted(folder.glob("*.json")):
        n = meta_path.stem
        meta = json.loads(meta_path.read_text())
        # our own files, written by this program: full unpickling is needed for plugin states
        state = torch.load(folder / f"{n}.pt", weights_only=False)
        targets = np.load(folder / f"{n}.targets.npy")
        found[meta["label"]] = Checkpoint(
            meta["label"], state, int(meta["last_day"]), meta["last_date"], meta["data_fingerprint"], targets
        )
    return found
