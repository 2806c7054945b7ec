"""Where a strategy's exception came from, as ``file:line``, for messages without ``--debug``."""

from __future__ import annotations

import inspect
import sysconfig
import traceback
from pathlib import Path

_ENGINE = Path(__file__).resolve().parents[1]
_BASE = (Path(__file__).resolve().parents[2] / "strategies" / "base.py").resolve()
_LIBRARIES = tuple(
    Path(p).resolve()
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def raised_at(exc: BaseException, cls: type | None = None) -> str | None:
    """``file:line`` of the deepest frame of ``exc``'s traceback in the strategy's own code.

    Prefers a file that defines ``cls`` or one of its bases (the plugin, also when the
    error surfaced inside a library it called); else the deepest frame outside the
    engine, the standard library and installed packages; None if there is none.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    own: set[Path] = set()
    for klass in getattr(cls, "__mro__", ()):
        try:
            source = inspect.getsourcefile(klass)
        except (TypeError, OSError):
            continue
        if source:
            own.add(Path(source).resolve())
    own.discard(_BASE)
    for frame in reversed(frames):
        if Path(frame.filename).resolve() in own:
            return f"{frame.filename}:{frame.lineno}"
    for frame in reversed(frames):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(_ENGINE) or any(path.is_relative_to(lib) for lib in _LIBRARIES):
            continue
        if frame.filename.startswith("<"):
            continue
        return f"{frame.filename}:{frame.lineno}"
    return None
