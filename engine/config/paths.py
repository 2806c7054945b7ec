"""Names that become paths: checked here, in one place, before any file is touched.

A name from the user or from a file (a sweep's name, a run id, a claim key) ends up
as one path component under the runs directory. ``check_name`` admits letters,
digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at most 128
characters: no separators, no ``..``, no absolute paths, no hidden files, nothing
a shell or another OS would read differently.
"""

from __future__ import annotations

import re
from pathlib import Path

from feeds.errors import InputError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Folders of a runs directory that are not runs.
RESERVED = frozenset({"sweeps"})


def check_name(name: object, what: str) -> str:
    """``name`` if it is safe as one path component, else InputError naming ``what``."""
    text = name if isinstance(name, str) else str(name)
    if not NAME.fullmatch(text) or ".." in text:
        raise InputError(
            f"{what} {text[:80]!r}: not a usable name (letters, digits, '.', '_', '-', starting "
            "with a letter or digit, at most 128 characters; it becomes a file name)"
        )
    return text


def child(root: Path, name: object, what: str, suffix: str = "") -> Path:
    """``root / (name + suffix)`` with ``name`` checked by :func:`check_name`."""
    return Path(root) / f"{check_name(name, what)}{suffix}"


def check_runs_dir(root: Path) -> Path:
    """``root`` if it is a directory or does not exist yet; InputError when it is something else."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError(f"runs directory {root}: not a directory")
    return root
