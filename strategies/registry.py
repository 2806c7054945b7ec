"""Finding strategies: entry points, ``module:Class`` and ``path/file.py:Class``.

Every strategy, the built-ins included, is registered under the entry-point group
``stockrnn.strategies`` (see ``pyproject.toml``); a third-party package does the
same in its own ``pyproject.toml``. Loading is lazy: listing names imports nothing,
and a plugin that fails to import is reported as broken without hiding the others.
Two packages registering the same name is a clash, reported rather than resolved.

Loose plugin files: every ``*.py`` in the directories of ``STOCKRNN_PLUGINS_DIR``
(``os.pathsep``-separated; the CLI's ``--plugins-dir`` sets it) is imported (so
listing runs their top-level code): each class defined there that subclasses a
style (directly or through the author's own base class), is concrete and has a
``name`` is registered as ``path/file.py:Class``; other strategy-like classes are
listed by :func:`skipped_plugins` with the reason.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from feeds.errors import InputError
from strategies.base import API_VERSION, OnlineStrategy, RuleStrategy, Strategy, WalkForwardStrategy

ENTRY_POINT_GROUP = "stockrnn.strategies"
STYLES = (RuleStrategy, OnlineStrategy, WalkForwardStrategy)


@dataclass(frozen=True)
class StrategyEntry:
    """A registered strategy name and where it comes from (not yet imported)."""

    name: str
    target: str  # "module:Class"
    source: str  # the distribution that registered it

    def load(self) -> type[Strategy]:
        return _load_target(self.target, origin=f"{self.name} ({self.source})", name=self.name)


def entries() -> dict[str, list[StrategyEntry]]:
    """All registered names -> their entries (more than one entry = a clash)."""
    found: dict[str, list[StrategyEntry]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, []).append(StrategyEntry(ep.name, ep.value, _dist_name(ep)))
    for entry in _plugin_files():
        found.setdefault(entry.name, []).append(entry)
    # The same distribution can be seen twice (e.g. an editable install and a build dir).
    return {
        name: list({(e.target, e.source): e for e in items}.values()) for name, items in sorted(found.items())
    }


def resolve(spec: str) -> type[Strategy]:
    """The strategy class for a registered name, ``module:Class`` or ``path/file.py:Class``."""
    if ":" in spec:
        return _load_target(spec, origin=spec, name=None)
    registered = entries()
    if spec not in registered:
        hint = difflib.get_close_matches(spec, list(registered), n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        raise InputError(
            f"unknown strategy {spec!r}{suggestion} (available: {', '.join(registered)}; "
            "or give module:Class or path/file.py:Class)"
        )
    options = registered[spec]
    if len(options) > 1:
        sources = "; ".join(f"{e.target} from {e.source}" for e in options)
        raise InputError(
            f"strategy name {spec!r} is registered more than once ({sources}); "
            "uninstall one, or use module:Class to choose"
        )
    return options[0].load()


PLUGINS_ENV = "STOCKRNN_PLUGINS_DIR"


@dataclass(frozen=True)
class Skipped:
    """A class in a plugins-dir file that is not registered, and why."""

    target: str  # path/file.py:Class
    reason: str


_SKIPPED: list[Skipped] = []


def skipped_plugins() -> list[Skipped]:
    """Classes of the plugins dirs that the last :func:`entries` did not register, with the reason."""
    return list(_SKIPPED)


def _plugin_files() -> list[StrategyEntry]:
    """Strategies defined in the ``*.py`` files of the plugin directories.

    Each file is imported (listing runs its top-level code): every class defined in
    it that subclasses a style, is not abstract and has a ``name`` is registered;
    other classes that look like strategies are recorded in :func:`skipped_plugins`.
    A file that cannot be imported registers the names its classes declare (read
    without running it) as broken, so the error is shown under those names.
    """
    out = []
    _SKIPPED.clear()
    for folder in filter(None, os.environ.get(PLUGINS_ENV, "").split(os.pathsep)):
        for path in sorted(Path(folder).expanduser().glob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (OSError, SyntaxError, ValueError) as exc:
                out.append(StrategyEntry(path.stem, f"{path}:?", f"plugins dir (unreadable: {exc})"))
                continue
            try:
                module = _import_file(path)
            except Exception:
                out.extend(
                    StrategyEntry(name, f"{path}:{cls_name}", f"plugins dir {folder}")
                    for cls_name, name in _declared_names(tree)
                )
                continue
            out.extend(_classes_of(module, path, folder))
    return out


def _classes_of(module: object, path: Path, folder: str) -> list[StrategyEntry]:
    found = []
    for attr, obj in vars(module).items():
        if not isinstance(obj, type) or obj.__module__ != getattr(module, "__name__", None):
            continue
        target = f"{path}:{attr}"
        if issubclass(obj, STYLES):
            if not obj.name:
                _SKIPPED.append(Skipped(target, "declares no `name` (a helper base class?)"))
            elif inspect.isabstract(obj):
                missing = ", ".join(sorted(obj.__abstractmethods__))
                _SKIPPED.append(Skipped(target, f"abstract: does not implement {missing}"))
            else:
                found.append(StrategyEntry(obj.name, target, f"plugins dir {folder}"))
        elif isinstance(obj.__dict__.get("name"), str):
            _SKIPPED.append(
                Skipped(
                    target,
                    "has a `name` but does not subclass RuleStrategy, OnlineStrategy or WalkForwardStrategy",
                )
            )
    return found


def _declared_names(tree: ast.Module) -> list[tuple[str, str]]:
    """(class, name) of top-level classes that assign a non-empty string to ``name`` (read, not run)."""
    out = []
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if (
                isinstance(item, ast.Assign | ast.AnnAssign)
                and any(getattr(t, "id", None) == "name" for t in _targets(item))
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
                and item.value.value
            ):
                out.append((node.name, item.value.value))
    return out


def _targets(node: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]


def _dist_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else "unknown package"


def _load_target(target: str, *, origin: str, name: str | None) -> type[Strategy]:
    module_part, _, attr = target.rpartition(":")
    if not module_part or not attr:
        raise InputError(f"strategy {target!r}: expected module:Class or path/file.py:Class")
    try:
        if module_part.endswith(".py") or "/" in module_part or "\\" in module_part:
            module = _import_file(Path(module_part))
        else:
            module = importlib.import_module(module_part)
        cls = getattr(module, attr)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"strategy {origin}: cannot load {target}: {type(exc).__name__}: {exc}") from exc
    return check_class(cls, origin=origin, name=name)


_FILE_MODULES: dict[str, Path] = {}  # module name given to a plugin file -> the file


def spec_of(cls: type[Strategy]) -> str:
    """A spec that :func:`resolve` turns back into ``cls`` in another process.

    ``path/file.py:Class`` for classes from plugin files, else ``module:Class``; a
    class renamed to its registry name resolves by that name.
    """
    base = cls.__dict__.get("_renamed_from", cls)  # check_class's subclass carrying a registry name
    path = _FILE_MODULES.get(base.__module__)
    if path is not None:
        return f"{path}:{base.__qualname__}"
    return f"{base.__module__}:{base.__qualname__}"


def _import_file(path: Path) -> object:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise InputError(f"strategy file {path}: no such file")
    module_name = f"stockrnn_plugin_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    _FILE_MODULES[module_name] = path
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def check_class(cls: object, *, origin: str, name: str | None) -> type[Strategy]:
    """Check that ``cls`` follows the contract; give it its registry name."""
    if not (isinstance(cls, type) and issubclass(cls, STYLES)):
        raise InputError(
            f"strategy {origin}: {cls!r} is not a subclass of RuleStrategy, OnlineStrategy "
            "or WalkForwardStrategy"
        )
    if cls.api_version != API_VERSION:
        raise InputError(
            f"strategy {origin}: written for plugin API version {cls.api_version}, "
            f"this engine speaks version {API_VERSION}"
        )
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise InputError(
            f"strategy {origin}: {cls.__name__} does not implement {', '.join(missing)} "
            "(required by its style; see docs/strategies.md)"
        )
    if cls.frequency not in ("daily", "annual"):
        raise InputError(f"strategy {origin}: frequency must be 'daily' or 'annual', got {cls.frequency!r}")
    if name and cls.name != name:
        # Registered under another name than the class declares: the registry name wins.
        cls = type(cls.__name__, (cls,), {"name": name, "__module__": cls.__module__, "_renamed_from": cls})
    return cls
