"""The plugin authors' check: a short backtest against buy-and-hold and the look-ahead audit.

Reached through ``engine.api.check_strategy``, in plugin packages' own tests::

    from engine.api import check_strategy

    def test_my_strategy():
        result = check_strategy(MyIdea, {"lookback": 20})
        assert result.audit.passed, result.audit.summary()

The default data are :func:`feeds.synthetic.synthetic_market` (12 years of business days
of geometric random walks with open, high, low and volume).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.pipeline.runner import execute
from engine.workflows.audit import audit
from engine.workflows.audit_report import AuditReport
from feeds.market import Market
from feeds.synthetic import synthetic_market
from strategies.base import Strategy
from strategies.registry import spec_of


@dataclass(frozen=True)
class CheckResult:
    """``run``: the backtest's payload (as ``backtest run --json``); ``audit``: the audit report."""

    run: dict[str, Any]
    audit: AuditReport


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

    data = market if market is not None else synthetic_market()
    spec = strategy if isinstance(strategy, str) else spec_of(strategy)
    config = RunConfig(strategies=(StrategySpec(name=spec, params=dict(params or {})),), seeds=seeds)
    payload = execute(prepare(config, market=data)).to_dict()
    report = audit(spec, data, seeds, params=params, cuts=cuts)
    return CheckResult(payload, report)
