"""A strategy's state after a day: what an online or walk-forward strategy continues from.

Written to and read from a run folder by :mod:`engine.store.checkpoints` (the pipeline never touches files).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Checkpoint:
    """State of one online strategy after row ``last_day`` of its data."""

    label: str
    state: dict[str, Any]
    last_day: int
    last_date: str
    data_fingerprint: str  # Market.head(last_day + 1).fingerprint()
    targets: np.ndarray  # (last_day + 1, n_members, n_tickers)
