"""Engine: timing convention, driving strategies, simulation, metrics, audit, store, CLI.

The Python API (engine.api, docs/python-api.md) is importable from here:
``engine.run``, ``engine.load``, ``engine.runs``, ``engine.audit_strategy``, ``engine.Run``,
``engine.RunConfig``, ``engine.RunResult`` (the typed result) and ``engine.load_result``.
Submodules are imported on demand (torch and polars are slow to import), so these names
resolve lazily and ``import engine`` stays cheap.
(The audit function is ``audit_strategy``: ``engine.workflows.audit`` is the submodule.)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.api import Run, audit_strategy, load, make_config, run, runs
    from engine.config.run_config import RunConfig, StrategySpec
    from engine.store.result_schema import RunResult, load_result

__all__ = [
    "Run",
    "RunConfig",
    "RunResult",
    "StrategySpec",
    "audit_strategy",
    "load",
    "load_result",
    "make_config",
    "run",
    "runs",
]

# name -> module that defines it
_WHERE = {
    "Run": "engine.api",
    "RunConfig": "engine.config.run_config",
    "RunResult": "engine.store.result_schema",
    "load_result": "engine.store.result_schema",
    "StrategySpec": "engine.config.run_config",
    "audit_strategy": "engine.api",
    "load": "engine.api",
    "make_config": "engine.api",
    "run": "engine.api",
    "runs": "engine.api",
}


def __getattr__(name: str) -> Any:
    # PEP 562: resolve the API's names on first use
    if name == "__version__":
        return _version()
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def _version() -> str:
    """The installed distribution's version (``backtest --version``)."""
    from importlib import metadata

    try:
        return metadata.version("stock-rnn")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
