"""A run's label and notes: the one thing people write into a stored run after it finished.

Kept in ``<run>/annotation.json``, apart from ``manifest.json`` and ``metrics.json``,
which stay as the run wrote them (results are never edited). Plain JSON, read as
data only; a missing or unreadable file means no label.
"""

from __future__ import annotations

from pathlib import Path

from engine.store.run_reader import Damaged, read_json
from engine.store.run_store import write_json_atomic

FILE = "annotation.json"
MAX_LABEL, MAX_NOTES = 80, 4000
MAX_BYTES = 64 * 1024


def read(folder: Path) -> dict[str, str]:
    """``{"label": ..., "notes": ...}`` of a run folder (empty strings when there are none)."""
    try:
        data = read_json(Path(folder), FILE, limit=MAX_BYTES)  # a FIFO or a huge file is no note
    except Damaged:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return {"label": str(data.get("label", ""))[:MAX_LABEL], "notes": str(data.get("notes", ""))[:MAX_NOTES]}


def write(folder: Path, label: str, notes: str) -> None:
    """Replace the label and notes of a run folder (atomically; the run folder and the file must not be
    links: the runs directory is ``folder``'s parent)."""
    write_json_atomic(
        Path(folder) / FILE,
        {"label": label.strip()[:MAX_LABEL], "notes": notes.strip()[:MAX_NOTES]},
        root=Path(folder).parent,
    )
