"""Plugins are audited on first use: a quick look-ahead audit, cached by the plugin's identity.

A plugin's key is its distribution's name and version (entry points and modules of
an installed package) or the SHA-256 of its file (plugin files, modules outside
any package), plus the class name; the built-in strategies of this project are
audited in its test suite instead. The first ``backtest run`` of a plugin with a
new key runs :func:`engine.audit.audit` with ``QUICK_CUTS`` cuts and the run's
first seed on the run's data, and stores the outcome under the cache directory
(``audits/KEY.json``); later runs read it. ``--no-audit`` (or
``STOCKRNN_NO_AUDIT=1``) skips the check.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from engine.pipeline.progress import Progress
from strategies.base import Strategy
from strategies.registry import spec_of

QUICK_CUTS = 3
NO_AUDIT_ENV = "STOCKRNN_NO_AUDIT"
_BUILTIN = (Path(__file__).resolve().parents[2] / "strategies").resolve()


def plugin_key(cls: type[Strategy]) -> str | None:
    """The identity a first-use audit is cached under; None for a built-in strategy."""
    base = cls.__dict__.get("_renamed_from", cls)
    try:
        source = Path(inspect.getsourcefile(base) or "").resolve()
    except (TypeError, OSError):
        source = None
    if source is not None and source.is_relative_to(_BUILTIN):
        return None
    top = base.__module__.split(".")[0]
    from engine.store.provenance import first_distribution

    dist = first_distribution(top)
    if dist is not None and dist != "stock-rnn":
        return f"{dist}=={metadata.version(dist)}:{base.__module__}:{base.__qualname__}"
    if source is None or not source.is_file():
        return f"{base.__module__}:{base.__qualname__}"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    return f"file sha256 {digest}:{base.__qualname__}"


def audit_on_first_use(
    strategies: tuple[Strategy, ...],
    market: Any,
    seeds: tuple[int, ...],
    cache_dir: Path,
    *,
    progress: Progress | None = None,
) -> list[tuple[str, str]]:
    """Audit every plugin among ``strategies`` not audited before; (label, summary) of the failures.

    ``progress``: one event (stage "<label>: first use, auditing ...", 0 of 1) per plugin audited now.
    """
    if os.environ.get(NO_AUDIT_ENV, "") not in ("", "0"):
        return []
    failures = []
    for strategy in strategies:
        cls = type(strategy)
        key = plugin_key(cls)
        if key is None:
            continue
        path = cache_dir / "audits" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"
        stored = _read(path)
        if stored is None:
            from engine.workflows.audit import audit  # here: runs of built-ins never import the audit

            if progress:
                progress(f"{strategy.label()}: first use, auditing for look-ahead ({QUICK_CUTS} cuts)", 0, 1)
            report = audit(
                spec_of(cls), market, seeds[:1], params=strategy.params.model_dump(), cuts=QUICK_CUTS
            )
            stored = {"key": key, "passed": report.passed, "summary": report.summary()}
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(stored, indent=2))
            tmp.replace(path)
        if not stored.get("passed"):
            failures.append((strategy.label(), str(stored.get("summary"))))
    return failures


def _read(path: Path) -> dict[str, Any] | None:
    """A stored outcome (plain JSON, never code); None when absent or unreadable (audit again)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) and "passed" in value else None
