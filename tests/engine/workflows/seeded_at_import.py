"""A strategy whose module seeds the global generators when it is imported (for the audit's tests).

Deterministic in every fresh interpreter; the audit's forked passes must see it so too.
"""

from __future__ import annotations

import random

import numpy as np

from strategies import History, OnlineStrategy

np.random.seed(0)
random.seed(0)


class SeededAtImport(OnlineStrategy):
    """Draws from numpy's and Python's global generators, seeded once at import."""

    name = "seeded-at-import"

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        pass

    def decide(self, history: History) -> np.ndarray:
        k = len(history.tickers)
        return np.full(k, float(np.random.random() + random.random() > 1.0) / k)
