"""History: the past-only view of the market that a strategy is handed.

A ``History`` ending at row t holds exactly what is known at the close of
``dates[t]`` (its session close, :mod:`feeds.exchange_calendar`): dates, closes,
deltas, open/high/low/volume and extra feature rows 0..t, the year-end calendar
and the point-in-time universe (if any) up to t. Its arrays are read-only views.

What "holds only the past" guarantees (see docs/plugins.md): nothing reachable
from a History (its arrays, their ``.base``, memory one row past a view through
``np.lib.stride_tricks.as_strided``, its private members, ``upto``) holds a row
after its last day.

- Rule strategies receive a History over the whole data of the run, copied into
  buffers with one unwritten (NaN) row after the last (one O(n) copy per run).
- Online and walk-forward strategies are driven day by day over a
  :class:`PastBuffer`: the engine appends row t to buffers that it grows by
  doubling (amortized O(1) per day: no prefix is copied per day), then hands out
  ``History(buffer, t + 1)``. Row t + 1 is written only after the strategy's calls
  for day t have returned, the unwritten rows are NaN, and a buffer's capacity
  depends only on how many rows were written, not on how many days the data has.

Not guaranteed in-process (the look-ahead audit and the implausibility flag cover
them): walking the interpreter's frames or ``gc`` to the engine's objects, and
reading data files directly.
"""

from __future__ import annotations

import numpy as np

from feeds.market import BAR_FIELDS, Market

__all__ = ["History", "PastBuffer"]


class PastBuffer:
    """Per-day arrays filled up to ``rows`` rows; rows beyond are unwritten (NaN / False / NaT).

    Built empty (:meth:`empty`) and appended to day by day by the engine, or built
    over complete arrays (:meth:`over`). Holds no reference to the source market.
    """

    __slots__ = ("_arrays", "rows", "tickers")

    def __init__(self, tickers: tuple[str, ...], arrays: dict[str, np.ndarray], rows: int) -> None:
        self.tickers = tickers
        self._arrays = arrays
        self.rows = rows

    @classmethod
    def over(cls, market: Market) -> PastBuffer:
        """All rows of ``market`` (its own arrays, no copy): the engine's source of rows."""
        arrays = {
            "dates": market.dates,
            "close": market.close,
            "deltas": market.deltas,
            "year_end": market.year_end,
            **{f"bar:{name}": market.bar(name) for name in BAR_FIELDS},
            **{f"feature:{name}": values for name, values in market.features.items()},
            **({} if market.universe is None else {"universe": market.universe}),
        }
        return cls(market.tickers, arrays, market.n_days)

    @classmethod
    def copy_of(cls, market: Market) -> PastBuffer:
        """All rows of ``market``, copied into buffers with one unwritten row after the last."""
        arrays = {}
        for name, values in cls.over(market)._arrays.items():
            out = _blank(values, market.n_days + 1)
            out[:-1] = values
            arrays[name] = out
        return cls(market.tickers, arrays, market.n_days)

    @classmethod
    def empty(cls, market: Market, capacity: int = 64) -> PastBuffer:
        """No rows yet, with room for ``capacity`` rows shaped like ``market``'s (no values copied)."""
        template = cls.over(market)
        arrays = {name: _blank(values, capacity) for name, values in template._arrays.items()}
        return cls(market.tickers, arrays, 0)

    def append(self, source: PastBuffer, row: int) -> None:
        """Copy row ``row`` of ``source`` as the next row (grows capacity by doubling)."""
        arrays = self._arrays
        if self.rows + 1 >= len(arrays["dates"]):
            # keep at least one unwritten row after the last written one: reading one row
            # past a view then finds NaN, never memory outside the allocation
            for name, values in arrays.items():
                grown = _blank(values, 2 * len(values))
                grown[: self.rows] = values[: self.rows]
                arrays[name] = grown
        rows = self.rows
        for name, values in arrays.items():
            values[rows] = source._arrays[name][row]
        self.rows = rows + 1

    def array(self, name: str, end: int) -> np.ndarray:
        """Rows [0, end) of array ``name`` as a read-only view."""
        view = self._arrays[name][:end]
        view.flags.writeable = False
        return view

    def has(self, name: str) -> bool:
        return name in self._arrays


def _blank(like: np.ndarray, rows: int) -> np.ndarray:
    """An array of ``rows`` rows shaped like ``like``'s rows, filled with 'unknown'."""
    shape = (rows, *like.shape[1:])
    if like.dtype == bool:
        return np.zeros(shape, dtype=bool)
    if np.issubdtype(like.dtype, np.datetime64):
        return np.full(shape, np.datetime64("NaT"), dtype=like.dtype)
    dtype = like.dtype if np.issubdtype(like.dtype, np.floating) else np.float64
    return np.full(shape, np.nan, dtype=dtype)


class History:
    """Market data up to and including the close of ``dates[-1]``.

    ``History(market)`` covers every row of ``market``; ``History(market, end)``
    the first ``end`` rows (both copy, so nothing later stays reachable). The engine
    drives day-by-day strategies with ``History(buffer, t + 1)`` over a growing
    :class:`PastBuffer` instead (no copy per day).
    """

    __slots__ = ("_end", "_past")

    def __init__(self, source: Market | PastBuffer, end: int | None = None) -> None:
        if isinstance(source, Market):
            if end is not None and end != source.n_days:
                if not 1 <= end <= source.n_days:
                    raise ValueError(f"end={end} outside 1..{source.n_days}")
                source = source.head(end)
            source = PastBuffer.copy_of(source)
        self._past = source
        self._end = source.rows if end is None else end
        if not 1 <= self._end <= source.rows:
            raise ValueError(f"end={end} outside 1..{source.rows}")

    def upto(self, t: int) -> History:
        """The history as known at the close of row ``t`` (0-based, inclusive; t <= today's row)."""
        if not 0 <= t < self._end:
            raise ValueError(
                f"upto({t}): a History ending at row {self._end - 1} ({self.today}) holds rows "
                f"0..{self._end - 1} only"
            )
        return History(self._past, t + 1)

    @property
    def n_days(self) -> int:
        """Number of rows (trading days) known."""
        return self._end

    @property
    def tickers(self) -> tuple[str, ...]:
        return self._past.tickers

    @property
    def dates(self) -> np.ndarray:
        """Trading days, ``datetime64[D]``, shape (n_days,)."""
        return self._past.array("dates", self._end)

    @property
    def today(self) -> np.datetime64:
        """The decision day: the last known close."""
        return self._past.array("dates", self._end)[-1]

    @property
    def close(self) -> np.ndarray:
        """Adjusted closes, float64 (n_days, n_tickers), NaN where a ticker had no bar."""
        return self._past.array("close", self._end)

    @property
    def deltas(self) -> np.ndarray:
        """Daily deltas (simple returns), float64 (n_days, n_tickers); row t belongs to day t."""
        return self._past.array("deltas", self._end)

    @property
    def open(self) -> np.ndarray:
        """Opens, float64 (n_days, n_tickers), NaN where the data has none (not adjusted)."""
        return self._past.array("bar:open", self._end)

    @property
    def high(self) -> np.ndarray:
        """Highs, float64 (n_days, n_tickers), NaN where the data has none (not adjusted)."""
        return self._past.array("bar:high", self._end)

    @property
    def low(self) -> np.ndarray:
        """Lows, float64 (n_days, n_tickers), NaN where the data has none (not adjusted)."""
        return self._past.array("bar:low", self._end)

    @property
    def volume(self) -> np.ndarray:
        """Volume in shares, float64 (n_days, n_tickers), NaN where the data has none."""
        return self._past.array("bar:volume", self._end)

    @property
    def year_end(self) -> np.ndarray:
        """Bool (n_days,): True on the last trading day of each calendar year (annual decision days)."""
        return self._past.array("year_end", self._end)

    @property
    def universe(self) -> np.ndarray | None:
        """Bool (n_days, n_tickers) or None: which tickers an annual strategy may buy at each close.

        Set by ``--universe`` (point-in-time index membership): at a year-end row,
        the tickers that were members at that close and have a price there; later
        rows carry it until the next year end. None: every ticker with a price is
        eligible. The engine rejects a weight on a ticker outside it.
        """
        return self._past.array("universe", self._end) if self._past.has("universe") else None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(
            sorted(n.removeprefix("feature:") for n in self._past._arrays if n.startswith("feature:"))
        )

    def feature(self, name: str) -> np.ndarray:
        """Extra per-day feature rows known at each close, shape (n_days, d)."""
        if not self._past.has(f"feature:{name}"):
            known = ", ".join(self.feature_names) or "none"
            raise KeyError(f"no feature {name!r} (available: {known})")
        return self._past.array(f"feature:{name}", self._end)
