"""Child Python processes that import this package's own code, never the working directory's.

``python -m engine.cli`` (or ``python -m streamlit``) puts the working directory
first on ``sys.path``: a folder named ``engine/``, ``feeds/`` or ``strategies/``
where the user started the dashboard would be imported instead of ours. The
children here run with ``-I`` (isolated mode: no working directory or script
folder on ``sys.path``, no ``PYTHON*`` variables, no user site-packages) and put
back only what they need:

1. the folder this package was imported from (a checkout, first on ``sys.path``;
   site-packages keeps its place), so the child runs exactly the code of the
   parent: an editable install, a ``PYTHONPATH`` checkout and a regular install alike;
2. the absolute entries of ``PYTHONPATH`` (libraries the user asked for; relative
   ones, ``""`` and ``"."`` among them, would mean the working directory again).

Installed packages (site-packages, ``.pth`` files and editable-install finders)
stay importable: ``-I`` keeps the interpreter's own site-packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

# argv: ROOT MODULE ARGS...; runs MODULE as ``python -m MODULE ARGS...`` would, with ROOT first on sys.path
_BOOT = """\
import os, runpy, sys
root, module = sys.argv[1], sys.argv[2]
extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if os.path.isabs(p)]
front = []
for path in [root, *extra]:  # a folder already on sys.path (site-packages) keeps its place
    if os.path.realpath(path) not in {os.path.realpath(p) for p in [*sys.path, *front]}:
        front.append(path)
sys.path[:0] = front
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def package_root() -> Path:
    """The folder that holds ``engine/``, ``feeds/`` and ``strategies/`` as this process imported them."""
    return Path(__file__).resolve().parents[2]


def isolated_command(module: str, *args: str) -> list[str]:
    """The command line that runs ``python -m MODULE ARGS`` in a child importing this package's code."""
    return [sys.executable, "-I", "-c", _BOOT, str(package_root()), module, *args]
