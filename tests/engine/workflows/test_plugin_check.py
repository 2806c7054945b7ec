"""The plugin authors' check (engine.api.check_strategy): a short backtest and the look-ahead audit."""

from __future__ import annotations

from engine.api import check_strategy
from feeds.synthetic import synthetic_market


def test_check_strategy_runs_and_audits():
    result = check_strategy("ma-trend", {"window": 20}, market=synthetic_market(years=1.5), cuts=2)
    assert result.audit.passed, result.audit.summary()
    assert result.run["benchmark"]["name"] == "buy-and-hold"
