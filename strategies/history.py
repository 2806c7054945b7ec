"""History: the past-only view of the market that a strategy is handed.

A ``History`` ending at row t holds exactly what is known at the close of
``dates[t]`` (its session close, :mod:`feeds.exchange_calendar`): closes and deltas of rows 0..t, the year-end
calendar up to t, and extra feature rows 0..t. It is a cheap view (no copies), and
its arrays are read-only.

Online and walk-forward strategies only ever receive histories that end at the
decision day, so they cannot see the future. Rule strategies receive the whole
history at once, for speed, and must compute causally (row t from rows <= t); the
engine's look-ahead audit checks that.
"""

from __future__ import annotations

import numpy as np

from feeds.market import Market


class History:
    """Market data up to and including the close of ``dates[-1]``."""

    __slots__ = ("_end", "_market")

    def __init__(self, market: Market, end: int | None = None) -> None:
        self._market = market
        self._end = market.n_days if end is None else end
        if not 1 <= self._end <= market.n_days:
            raise ValueError(f"end={end} outside 1..{market.n_days}")

    def upto(self, t: int) -> History:
        """The history as known at the close of row ``t`` (0-based, inclusive)."""
        return History(self._market, t + 1)

    @property
    def n_days(self) -> int:
        """Number of rows (trading days) known."""
        return self._end

    @property
    def tickers(self) -> tuple[str, ...]:
        return self._market.tickers

    @property
    def dates(self) -> np.ndarray:
        """Trading days, ``datetime64[D]``, shape (n_days,)."""
        return self._market.dates[: self._end]

    @property
    def today(self) -> np.datetime64:
        """The decision day: the last known close."""
        return self._market.dates[self._end - 1]

    @property
    def close(self) -> np.ndarray:
        """Adjusted closes, shape (n_days, n_tickers), NaN where a ticker had no bar."""
        return self._market.close[: self._end]

    @property
    def deltas(self) -> np.ndarray:
        """Daily deltas (simple returns), shape (n_days, n_tickers); row t belongs to day t."""
        return self._market.deltas[: self._end]

    @property
    def year_end(self) -> np.ndarray:
        """Bool mask (n_days,): last trading day of each calendar year."""
        return self._market.year_end[: self._end]

    @property
    def universe(self) -> np.ndarray | None:
        """Bool (n_days, n_tickers) or None: which tickers an annual strategy may buy at each close.

        Set by ``--universe`` (point-in-time index membership): at a year-end row,
        the tickers that were members at that close and have a price there; later
        rows carry it until the next year end. None: every ticker with a price is
        eligible. The engine rejects a weight on a ticker outside it.
        """
        universe = self._market.universe
        return None if universe is None else universe[: self._end]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._market.features))

    def feature(self, name: str) -> np.ndarray:
        """Extra per-day feature rows known at each close, shape (n_days, d)."""
        try:
            return self._market.features[name][: self._end]
        except KeyError:
            known = ", ".join(self.feature_names) or "none"
            raise KeyError(f"no feature {name!r} (available: {known})") from None
