"""Where a strategy's code comes from, for the run manifest (``plugins``).

A strategy from an installed distribution (the built-ins, a plugin package) is
recorded with the distribution's name and version; every strategy, installed or
a loose ``file.py:Class``, also with the SHA-256 of the file that defines it, since
an editable install or a loose file can change without a version bump.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path


@lru_cache(maxsize=64)
def first_distribution(top: str) -> str | None:
    """``metadata.packages_distributions().get(top, [None])[0]``, without building the whole map.

    Why: the whole map parses every installed distribution's file list (~1.1 s, a third of a
    ma-trend run); this walks the distributions in the same order and stops at the first
    whose top-level names (declared, else inferred from its files, as the stdlib does)
    include ``top``. Falls back to the stdlib's map where its helpers are missing.
    """
    declared = getattr(metadata, "_top_level_declared", None)
    inferred = getattr(metadata, "_top_level_inferred", None)
    if declared is None or inferred is None:
        return next(iter(metadata.packages_distributions().get(top, [])), None)
    for dist in metadata.distributions():
        if top in (declared(dist) or inferred(dist)):
            return str(dist.metadata["Name"])
    return None


def code_origin(cls: type) -> dict[str, str]:
    """``{"module", "distribution", "version", "file", "sha256"}`` (the keys that could be found)."""
    module_name = cls.__module__
    found: dict[str, str] = {"module": module_name, "class": cls.__qualname__}
    top = module_name.split(".")[0]
    dist = first_distribution(top)
    if dist is not None:
        found["distribution"] = dist
        with contextlib.suppress(metadata.PackageNotFoundError):
            found["version"] = metadata.version(dist)
    module = sys.modules.get(module_name)
    try:
        path = Path(inspect.getfile(module)) if module is not None else None
    except TypeError:  # a built-in or dynamically made module has no file
        path = None
    if path is not None and path.is_file():
        found["file"] = str(path)
        found["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
