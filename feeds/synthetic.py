"""Synthetic markets: reproducible geometric random walks for tests, examples and plugin authors.

``random_walk_market`` draws closes only (the engine's tests); ``synthetic_market`` draws full bars
(open, high, low, volume) over years of business days (the plugin check, engine.api.check_strategy).
"""

from __future__ import annotations

import numpy as np

from feeds.market import Market

__all__ = ["business_days", "random_walk_market", "synthetic_market"]


def business_days(start: str, n: int) -> np.ndarray:
    """n weekdays from ``start`` as datetime64[D]."""
    first = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    return np.busday_offset(first, np.arange(n), roll="forward")


def random_walk_market(
    n: int = 600,
    tickers: tuple[str, ...] = ("AAA",),
    seed: int = 0,
    start: str = "2015-01-01",
    drift: float = 0.0004,
    vol: float = 0.012,
) -> Market:
    """A reproducible market of geometric random walks."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(drift, vol, size=(n, len(tickers)))
    close = 100.0 * np.exp(np.cumsum(steps, axis=0))
    return Market(dates=business_days(start, n), tickers=tickers, close=close, origin="synthetic")


def synthetic_market(
    years: float = 12.0,
    tickers: tuple[str, ...] = ("AAA", "BBB"),
    seed: int = 0,
    start: str = "2005-01-03",
    drift: float = 0.0003,
    vol: float = 0.012,
) -> Market:
    """Business days over ``years`` of geometric random walks (daily ``drift`` and ``vol`` in log terms).

    Close, and open/high/low around it, volume in shares; ``seed`` makes it reproducible.
    """
    rng = np.random.default_rng(seed)
    n = max(2, round(years * 261))
    first = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    dates = np.busday_offset(first, np.arange(n), roll="forward")
    k = len(tickers)
    close = 100.0 * np.exp(np.cumsum(rng.normal(drift, vol, size=(n, k)), axis=0))
    open_ = close * np.exp(rng.normal(0.0, vol / 3, size=(n, k)))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, vol / 3, size=(n, k))))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, vol / 3, size=(n, k))))
    volume = np.round(rng.lognormal(13.0, 0.4, size=(n, k)))
    return Market(
        dates=dates,
        tickers=tickers,
        close=close,
        origin="synthetic",
        bars={"open": open_, "high": high, "low": low, "volume": volume},
    )
