"""Causal running normalization: statistics from the past only.

``RunningNorm`` keeps, per column, the count, mean and variance of every value
it has been shown (Welford's update, in float64). Values of day t are added at
t's close, so statistics used at t include day t and nothing later. Before
``min_count`` values a column has no usable statistics (``ready`` is False):
``transform`` gives 0 there (the value is unknown in units of a std that is not
defined yet), and users must not scale targets by its ``std`` (the floor), which
would blow them up by 1e6.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RunningNorm:
    """Running mean and std per column, updated one row (one day) at a time."""

    def __init__(self, n_columns: int, *, floor: float = 1e-6, min_count: int = 2) -> None:
        self.count = np.zeros(n_columns)
        self.mean = np.zeros(n_columns)
        self.m2 = np.zeros(n_columns)
        self.floor = floor
        self.min_count = min_count

    def update(self, row: np.ndarray) -> None:
        """Add one day's values; NaN entries are skipped."""
        ok = ~np.isnan(row)
        if not ok.any():
            return
        self.count[ok] += 1.0
        delta = row[ok] - self.mean[ok]
        self.mean[ok] += delta / self.count[ok]
        self.m2[ok] += delta * (row[ok] - self.mean[ok])

    @property
    def ready(self) -> np.ndarray:
        """Bool per column: enough values (``min_count``) for a defined mean and std."""
        return self.count >= self.min_count

    @property
    def std(self) -> np.ndarray:
        """Sample std (ddof=1) per column, at least ``floor``."""
        ready = self.count >= self.min_count
        var = np.where(ready, self.m2 / np.maximum(self.count - 1.0, 1.0), 0.0)
        return np.maximum(np.sqrt(var), self.floor)

    def center(self) -> np.ndarray:
        return np.where(self.count >= self.min_count, self.mean, 0.0)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """(values - mean) / std; NaN, and columns not yet ``ready``, become 0 (the mean)."""
        return np.where(self.ready, np.nan_to_num((values - self.center()) / self.std), 0.0)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count.copy(), "mean": self.mean.copy(), "m2": self.m2.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.mean, self.m2 = (
            np.array(state[k], dtype=np.float64) for k in ("count", "mean", "m2")
        )
