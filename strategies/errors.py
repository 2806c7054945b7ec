"""The error a strategy's failure becomes.

``StrategyError``: a strategy failed or broke the output contract (bad shape, NaN
weights, look-ahead...). The engine raises it naming the strategy, the day and the
problem; the run is recorded as failed and ``backtest run`` exits with code 1. It
lives with the strategies (not in :mod:`feeds.errors`, which holds the input
errors): feeds import nothing from strategies, strategies and the engine import it
from here.
"""

from __future__ import annotations


class StrategyError(RuntimeError):
    """A strategy failed or broke the contract (bad shape, NaN weights, look-ahead...).

    The message names the strategy and the problem; the run is recorded as failed.
    """
