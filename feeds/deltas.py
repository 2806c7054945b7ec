"""Daily deltas: the one place where simple returns of the adjusted close are computed.

``delta[t] = close[t] / close[t_prev] - 1`` where ``t_prev`` is the ticker's previous
bar. The delta of day t belongs to day t: it is known at t's close and is what a
position held over (t_prev, t] earns. A ticker's first bar, and days on which it
has no bar, have NaN deltas; a bar after a gap carries the move over the gap.
"""

from __future__ import annotations

import numpy as np


def daily_deltas(close: np.ndarray) -> np.ndarray:
    """Simple daily returns of ``close``.

    ``close``: float array of shape (n_days, n_tickers), adjusted closes in
    currency units, NaN where a ticker has no bar. Returns an array of the same
    shape: fractions (0.01 = +1%), NaN on each ticker's first bar and on days
    without a bar.
    """
    close = np.asarray(close, dtype=np.float64)
    if close.ndim != 2:
        raise ValueError(f"close must be 2-D (n_days, n_tickers), got shape {close.shape}")
    previous = np.full_like(close, np.nan)
    if len(close) > 1:
        # last known close before each day: forward-fill over gaps, then shift by one row
        filled = close.copy()
        valid = ~np.isnan(filled)
        idx = np.where(valid, np.arange(len(close))[:, None], 0)
        np.maximum.accumulate(idx, axis=0, out=idx)
        filled = np.take_along_axis(close, idx, axis=0)
        filled[~np.maximum.accumulate(valid, axis=0)] = np.nan
        previous[1:] = filled[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return close / previous - 1.0
