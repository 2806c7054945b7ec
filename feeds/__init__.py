"""Feeds: price data in one schema (bars frames) and the market panel built from it.

Data flows one way: sources -> validated bars frame -> :class:`Market` panel ->
strategies and engine. Nothing here knows about strategies or the engine.
"""

from feeds.deltas import daily_deltas
from feeds.errors import DataQuirkWarning, InputError
from feeds.market import Market
from feeds.schema import BARS_SCHEMA
from feeds.sources import DataSpec, load_bars, load_market

__all__ = [
    "BARS_SCHEMA",
    "DataQuirkWarning",
    "DataSpec",
    "InputError",
    "Market",
    "daily_deltas",
    "load_bars",
    "load_market",
]
