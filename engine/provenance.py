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


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def code_origin(cls: type) -> dict[str, str]:
    """``{"module", "distribution", "version", "file", "sha256"}`` (the keys that could be found)."""
    module_name = cls.__module__
    found: dict[str, str] = {"module": module_name, "class": cls.__qualname__}
    top = module_name.split(".")[0]
    dists = _distributions().get(top, [])
    if dists:
        found["distribution"] = dists[0]
        with contextlib.suppress(metadata.PackageNotFoundError):
            found["version"] = metadata.version(dists[0])
    module = sys.modules.get(module_name)
    try:
        path = Path(inspect.getfile(module)) if module is not None else None
    except TypeError:  # a built-in or dynamically made module has no file
        path = None
    if path is not None and path.is_file():
        found["file"] = str(path)
        found["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
