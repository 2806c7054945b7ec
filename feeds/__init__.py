"""Feeds: price data in one schema (bars frames) and the market panel built from it.

Data flows one way: sources -> validated bars frame -> :class:`Market` panel ->
strategies and engine. Nothing here knows about strategies or the engine.

The names below are imported on first use (PEP 562), so ``from feeds.errors import
InputError`` (every CLI command) does not import numpy and polars.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "daily_deltas": "feeds.deltas",
    "DataQuirkWarning": "feeds.errors",
    "InputError": "feeds.errors",
    "Market": "feeds.market",
    "BARS_SCHEMA": "feeds.schema",
    "DataSpec": "feeds.sources",
    "load_bars": "feeds.sources",
    "load_market": "feeds.sources",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'feeds' has no attribute {name!r}")
