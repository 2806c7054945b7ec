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
    """Running mean and std per column, updated one row (one day) at a time.

    Online strategies call this twice a day for 8,000+ days, so the derived
    statistics (``ready``, ``std``, the center) are computed once per update."""

    def __init__(self, n_columns: int, *, floor: float = 1e-6, min_count: int = 2) -> None:
        self.count = np.zeros(n_columns)
        self.mean = np.zeros(n_columns)
        self.m2 = np.zeros(n_columns)
        self.floor = floor
        self.min_count = min_count
        self._all_ready = False  # every column ready: stays so, as counts only grow (see _derive)
        self._derive()

    def update(self, row: np.ndarray) -> None:
        """Add one day's values; NaN entries are skipped."""
        missing = np.isnan(row)
        if not missing.any():  # the common case, without fancy indexing (same arithmetic)
            self.count += 1.0
            delta = row - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (row - self.mean)
        elif not missing.all():
            ok = ~missing
            self.count[ok] += 1.0
            delta = row[ok] - self.mean[ok]
            self.mean[ok] += delta / self.count[ok]
            self.m2[ok] += delta * (row[ok] - self.mean[ok])
        else:
            return
        self._derive()

    def _derive(self) -> None:
        if self._all_ready:  # the selections below would keep every value: the same numbers, fewer calls
            self._std = np.maximum(np.sqrt(self.m2 / np.maximum(self.count - 1.0, 1.0)), self.floor)
            self._center = self.mean.copy()  # a copy, as np.where made: update changes mean in place
            return
        self._ready = self.count >= self.min_count
        var = np.where(self._ready, self.m2 / np.maximum(self.count - 1.0, 1.0), 0.0)
        self._std = np.maximum(np.sqrt(var), self.floor)
        self._center = np.where(self._ready, self.mean, 0.0)
        self._all_ready = bool(self._ready.all())

    @property
    def ready(self) -> np.ndarray:
        """Bool per column: enough values (``min_count``) for a defined mean and std."""
        return self._ready

    @property
    def std(self) -> np.ndarray:
        """Sample std (ddof=1) per column, at least ``floor``."""
        return self._std

    def center(self) -> np.ndarray:
        return self._center

    def transform(self, values: np.ndarray) -> np.ndarray:
        """(values - mean) / std; NaN, and columns not yet ``ready``, become 0 (the mean)."""
        scaled = (values - self._center) / self._std
        if self._all_ready:  # a new array: its NaNs set to 0 in place, as np.where below would give
            np.copyto(scaled, 0.0, where=np.isnan(scaled))
            return scaled
        return np.where(self._ready & ~np.isnan(scaled), scaled, 0.0)

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count.copy(), "mean": self.mean.copy(), "m2": self.m2.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.mean, self.m2 = (
            np.array(state[k], dtype=np.float64) for k in ("count", "mean", "m2")
        )
        self._all_ready = False  # the loaded counts decide
        self._derive()
