"""Strategies: the contract (styles, parameters, the past-only history), the registry,
and the built-in strategies. See ``docs/strategies.md``."""

from strategies.base import (
    API_VERSION,
    ENSEMBLE,
    MAIN,
    Frequency,
    Member,
    OnlineStrategy,
    RuleStrategy,
    Strategy,
    WalkForwardStrategy,
)
from strategies.history import History
from strategies.params import StrategyParams

__all__ = [
    "API_VERSION",
    "ENSEMBLE",
    "MAIN",
    "Frequency",
    "History",
    "Member",
    "OnlineStrategy",
    "RuleStrategy",
    "Strategy",
    "StrategyParams",
    "WalkForwardStrategy",
]
