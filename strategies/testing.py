"""Testing a strategy the way the engine will run it: small synthetic data, a short backtest, the audit.

For plugin authors' own tests (the scaffold's test uses it)::

    from strategies.testing import check_strategy

    def test_my_strategy():
        result = check_strategy(MyIdea, {"lookback": 20})
        assert result.audit.passed, result.audit.summary()

:func:`synthetic_market` makes ``years`` of business days (default 12: enough for a
strategy that warms up for years) of geometric random walks with open, high, low
and volume; :func:`check_strategy` runs a backtest against buy-and-hold through
the engine and the look-ahead audit (fresh processes, see :mod:`engine.audit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from feeds.market import Market
from strategies.base import Strategy

__all__ = ["CheckResult", "check_strategy", "synthetic_market"]


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


@dataclass(frozen=True)
class CheckResult:
    """``run``: the backtest's payload (as ``backtest run --json``); ``audit``: the audit report."""

    run: dict[str, Any]
    audit: Any  # engine.audit.AuditReport


def check_strategy(
    strategy: str | type[Strategy],
    params: Mapping[str, Any] | None = None,
    *,
    market: Market | None = None,
    seeds: tuple[int, ...] = (0,),
    cuts: int = 3,
) -> CheckResult:
    """Backtest ``strategy`` (a class, registered name or spec) against buy-and-hold and audit it.

    ``market``: default :func:`synthetic_market` (12 years, two tickers). Raises
    what the engine raises for a broken strategy (``StrategyError``, naming the day
    and the line).
    """
    from engine.audit import audit
    from engine.config import RunConfig, StrategySpec
    from engine.prepare import prepare
    from engine.runner import execute
    from strategies.registry import spec_of

    data = market if market is not None else synthetic_market()
    spec = strategy if isinstance(strategy, str) else spec_of(strategy)
    config = RunConfig(strategies=(StrategySpec(name=spec, params=dict(params or {})),), seeds=seeds)
    payload = execute(prepare(config, market=data)).to_dict()
    report = audit(spec, data, seeds, params=params, cuts=cuts)
    return CheckResult(payload, report)
