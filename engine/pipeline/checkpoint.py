"""A strategy's state after a day: what an online or walk-forward strategy continues from.

Written to and read from a run folder by :mod:`engine.store.checkpoints` (the pipeline never touches files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from feeds.errors import InputError


@dataclass(frozen=True)
class Checkpoint:
    """State of one online strategy after row ``last_day`` of its data."""

    label: str
    state: dict[str, Any]
    last_day: int
    last_date: str
    data_fingerprint: str  # Market.head(last_day + 1).fingerprint()
    targets: np.ndarray  # (last_day + 1, n_members, n_tickers)
    # Market.head(last_day + 1).day_digests(): locates the first changed day (None: an older checkpoint)
    day_digests: np.ndarray | None = None


class PastChanged(InputError):
    """The data up to a checkpoint's last day are not those it was computed on.

    ``first_day``: the first trading day whose data differ (``YYYY-MM-DD``), or None when the
    checkpoint predates per-day digests. Raised before anything is stored.
    """

    def __init__(self, message: str, first_day: str | None) -> None:
        super().__init__(message)
        self.first_day = first_day
