"""Trading-day calendar facts that every part of the project shares.

- ``DECISION_TIME``: a trading day's decision time is its close: the regular
  close is 16:00 in America/New_York; the exact close of each session, 13:00 on
  the NYSE's early-close days, comes from :mod:`feeds.exchange_calendar`
  (``session_closes``). Everything a strategy uses for day t must be known by then.
- ``year_end_mask``: the last trading day of each calendar year, the decision day
  of annual strategies. Whether a day is the last of its year is known at its
  close from the exchange calendar (no later price is needed), so the mask is
  causal; for the final row of a data set, which has no next row to look at, the
  day counts as a year end when no exchange session of its year remains after it
  (weekdays outside the calendar's range).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from feeds.exchange_calendar import count_sessions

EXCHANGE_TZ = ZoneInfo("America/New_York")
DECISION_TIME = dt.time(16, 0)  # the regular close; early closes: feeds.exchange_calendar


def year_end_mask(dates: np.ndarray) -> np.ndarray:
    """Boolean mask over ``dates`` (``datetime64[D]``, increasing): last trading day of each year."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    if len(dates) == 0:
        return np.zeros(0, dtype=bool)
    years = dates.astype("datetime64[Y]")
    mask = np.zeros(len(dates), dtype=bool)
    mask[:-1] = years[1:] != years[:-1]
    last = dates[-1]
    next_year = (last.astype("datetime64[Y]") + 1).astype("datetime64[D]")
    mask[-1] = count_sessions(last + 1, next_year) == 0
    return mask
