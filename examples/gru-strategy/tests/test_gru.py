"""The example plugin passes the engine's look-ahead audit and runs through the engine."""

from __future__ import annotations

import numpy as np
from stockrnn_gru.strategy import GruOnline

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.pipeline.runner import execute
from engine.workflows.audit import audit
from feeds.market import Market


def market(n: int = 300) -> Market:
    rng = np.random.default_rng(0)
    dates = np.busday_offset(np.datetime64("2015-01-02"), np.arange(n), roll="forward")
    close = 100 * np.exp(np.cumsum(rng.normal(0.0004, 0.01, size=(n, 1)), axis=0))
    return Market(dates=dates, tickers=("IDX",), close=close, origin="synthetic")


def test_audit_passes():
    report = audit(GruOnline, market(), (0, 1), params={"hidden": 4, "warmup_years": 0.3}, cuts=2)
    assert report.passed, report.problems


def test_short_backtest_against_buy_and_hold():
    config = RunConfig(
        strategies=(
            StrategySpec(name="stockrnn_gru.strategy:GruOnline", params={"hidden": 4, "warmup_years": 0.3}),
        ),
        seeds=(0, 1),
    )
    payload = execute(prepare(config, market=market())).to_dict()
    assert len(payload["strategies"][0]["seeds"]) == 2
    assert payload["benchmark"]["name"] == "buy-and-hold"
