"""Testing a strategy the way the engine will run it: small synthetic data, a short backtest, the audit.

For plugin authors' own tests (the scaffold's test uses it)::

    from strategies.testing import check_strategy

    def test_my_strategy():
        result = check_strategy(MyIdea, {"lookback": 20})
        assert result.audit.passed, result.audit.summary()

:func:`synthetic_market` makes ``years`` of business days (default 12: enough for a
strategy that warms up for years) of geometric random walks with open, high, low
and volume; :func:`check_strategy` runs a backtest against buy-and-hold through
the engine and the look-ahead audit (fresh processes, see :mod:`engine.workflows.audit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from feeds.market import Market
from feeds.synthetic import synthetic_market
from strategies.base import Strategy

__all__ = ["check_strategy", "synthetic_market"]


def check_strategy(
    strategy: str | type[Strategy],
    params: Mapping[str, Any] | None = None,
    *,
    market: Market | None = None,
    seeds: tuple[int, ...] = (0,),
    cuts: int = 3,
) -> Any:
    """Backtest ``strategy`` against buy-and-hold and audit it: ``engine.api.check_strategy`` (see there).

    The engine is imported here, inside the function, so ``import strategies`` never loads it.
    """
    from engine.api import check_strategy as check

    return check(strategy, params, market=market, seeds=seeds, cuts=cuts)
