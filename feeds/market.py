"""The market panel: aligned daily closes of the selected tickers, as numpy arrays.

Array conventions (stated once here, used everywhere): dates are
``datetime64[D]`` trading days, strictly increasing; price arrays have shape
(n_days, n_tickers), row t is the close of ``dates[t]`` (its session close, 16:00 New
York or 13:00 on early-close days: :mod:`feeds.exchange_calendar`), NaN
where a ticker has no bar that day. Extra per-day feature arrays (e.g. headline
embeddings) have shape (n_days, d) and row t holds what was known at t's close.
Open, high, low and volume (``bars``, same shape as close; NaN where the source
has none) are kept as the loader gives them (a file's ``Adj Close`` factor applied to open/high/low;
the Yahoo cache's forward split adjustment applied to all of them).

A Market owns its arrays (views are copied on construction, ``head`` copies), so
a panel truncated at row t holds nothing of later rows in memory: what the
look-ahead audit and :class:`strategies.history.History` rely on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import polars as pl

from feeds.calendar import year_end_mask
from feeds.deltas import daily_deltas
from feeds.errors import InputError

BAR_FIELDS = ("open", "high", "low", "volume")


@dataclass(frozen=True, eq=False)
class Market:
    """Daily closes of a set of tickers, aligned on the union of their trading days."""

    dates: np.ndarray
    tickers: tuple[str, ...]
    close: np.ndarray
    origin: str = ""
    features: Mapping[str, np.ndarray] = field(default_factory=dict)
    # Point-in-time universe (feeds.universe.universe_mask): bool (n_days, n_tickers), True where the
    # ticker may be held: a member with a price at the last decision close at or before the row.
    # None: no universe, every ticker with a price may be bought.
    universe: np.ndarray | None = None
    bars: Mapping[str, np.ndarray] = field(default_factory=dict)  # open/high/low/volume, like close

    def __post_init__(self) -> None:
        # Own every array: a view would keep the rows it does not show reachable through .base.
        own = _owned
        object.__setattr__(self, "dates", own(self.dates))
        object.__setattr__(self, "close", own(self.close))
        object.__setattr__(self, "features", {k: own(v) for k, v in self.features.items()})
        object.__setattr__(self, "bars", {k: own(v) for k, v in self.bars.items()})
        if self.universe is not None:
            object.__setattr__(self, "universe", own(self.universe))
        unknown = set(self.bars) - set(BAR_FIELDS)
        if unknown:
            raise ValueError(f"bars {sorted(unknown)} not among {BAR_FIELDS}")
        for name, values in self.bars.items():
            if values.shape != self.close.shape:
                raise ValueError(f"bars {name!r} has shape {values.shape}, expected {self.close.shape}")
        if self.close.shape != (len(self.dates), len(self.tickers)):
            raise ValueError(
                f"close has shape {self.close.shape}, expected ({len(self.dates)}, {len(self.tickers)})"
            )
        for name, values in self.features.items():
            if len(values) != len(self.dates):
                raise ValueError(f"feature {name!r} has {len(values)} rows for {len(self.dates)} days")
        if self.universe is not None and self.universe.shape != self.close.shape:
            raise ValueError(f"universe has shape {self.universe.shape}, expected {self.close.shape}")
        # Strategies get views of these arrays; make sure none can write into the data.
        extra = () if self.universe is None else (self.universe,)
        for array in (self.dates, self.close, *self.features.values(), *self.bars.values(), *extra):
            array.flags.writeable = False

    @classmethod
    def from_bars(cls, bars: pl.DataFrame, origin: str = "") -> Market:
        """Pivot a validated bars frame (``BARS_SCHEMA``) into a panel."""
        if bars.height == 0:
            raise InputError(f"{origin or 'data'}: no rows")
        wide = bars.pivot(on="ticker", index="date", values="close", aggregate_function=None)
        wide = wide.sort("date")
        tickers = tuple(sorted(c for c in wide.columns if c != "date"))
        close = wide.select(tickers).to_numpy().astype(np.float64)
        dates = wide["date"].to_numpy().astype("datetime64[D]")
        extra = {}
        for name in BAR_FIELDS:
            # Pivot on the same days and tickers as close; a field the source lacks stays NaN.
            if name in bars.columns and bars[name].null_count() < bars.height:
                other = bars.pivot(on="ticker", index="date", values=name, aggregate_function=None)
                other = other.sort("date")
                extra[name] = other.select(tickers).to_numpy().astype(np.float64)
        return cls(dates=dates, tickers=tickers, close=close, origin=origin, bars=extra)

    @property
    def n_days(self) -> int:
        return len(self.dates)

    @cached_property
    def deltas(self) -> np.ndarray:
        """Daily deltas, shape (n_days, n_tickers); see :mod:`feeds.deltas`."""
        deltas = daily_deltas(self.close)
        deltas.flags.writeable = False
        return deltas

    @cached_property
    def year_end(self) -> np.ndarray:
        """Bool mask (n_days,): the last trading day of each calendar year (see :mod:`feeds.calendar`)."""
        mask = year_end_mask(self.dates)
        mask.flags.writeable = False
        return mask

    @property
    def index_tickers(self) -> tuple[str, ...]:
        """Tickers that are indices (Yahoo convention: a leading ``^``)."""
        return tuple(t for t in self.tickers if t.startswith("^"))

    def select(self, tickers: Sequence[str]) -> Market:
        """The panel restricted to ``tickers`` (in that order), dropping days none of them traded."""
        missing = [t for t in tickers if t not in self.tickers]
        if missing:
            raise InputError(
                f"ticker {', '.join(missing)} has no rows in {self.origin or 'the data'} "
                f"(available: {', '.join(self.tickers)})"
            )
        cols = [self.tickers.index(t) for t in tickers]
        close = self.close[:, cols]
        keep = ~np.all(np.isnan(close), axis=1)
        return replace(
            self,
            dates=self.dates[keep],
            tickers=tuple(tickers),
            close=close[keep],
            features={k: v[keep] for k, v in self.features.items()},
            universe=None if self.universe is None else self.universe[:, cols][keep],
            bars={k: v[:, cols][keep] for k, v in self.bars.items()},
        )

    def between(self, start: dt.date | None, end: dt.date | None) -> Market:
        """The days in [start, end] (both inclusive; None = open)."""
        lo = 0 if start is None else int(np.searchsorted(self.dates, np.datetime64(start, "D")))
        hi = (
            self.n_days
            if end is None
            else int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        )
        if hi - lo < 2:
            first, last = self.dates[0], self.dates[-1]
            raise InputError(
                f"fewer than 2 trading days between {start or 'the start'} and {end or 'the end'} "
                f"in {self.origin or 'the data'} (it covers {first}..{last})"
            )
        return self.head(hi, start=lo)

    def head(self, n: int, start: int = 0) -> Market:
        """Rows [start, n) as a new panel (the data as known at the close of row n-1).

        The arrays are copies: nothing after row n-1 stays reachable from the result.
        """
        return replace(
            self,
            dates=self.dates[start:n].copy(),
            close=self.close[start:n].copy(),
            features={k: v[start:n].copy() for k, v in self.features.items()},
            bars={k: v[start:n].copy() for k, v in self.bars.items()},
            universe=None if self.universe is None else self.universe[start:n].copy(),
        )

    def reindex(self, dates: np.ndarray) -> Market:
        """The panel on other trading days: rows of ``dates`` absent here are NaN."""
        pos = np.searchsorted(self.dates, dates)
        pos = np.clip(pos, 0, max(self.n_days - 1, 0))
        found = self.dates[pos] == dates
        close = np.where(found[:, None], self.close[pos], np.nan)
        feats = {
            k: np.where(found.reshape(-1, *([1] * (v.ndim - 1))), v[pos], np.nan)
            for k, v in self.features.items()
        }
        universe = None if self.universe is None else np.where(found[:, None], self.universe[pos], False)
        bars = {k: np.where(found[:, None], v[pos], np.nan) for k, v in self.bars.items()}
        return replace(
            self, dates=np.asarray(dates), close=close, features=feats, universe=universe, bars=bars
        )

    def bar(self, name: str) -> np.ndarray:
        """Open, high, low or volume (n_days, n_tickers); all NaN when the data have none."""
        if name not in BAR_FIELDS:
            raise KeyError(f"no bar field {name!r} (one of {', '.join(BAR_FIELDS)})")
        if name in self.bars:
            return self.bars[name]
        return self._no_bars

    @cached_property
    def _no_bars(self) -> np.ndarray:
        blank = np.full(self.close.shape, np.nan)
        blank.flags.writeable = False
        return blank

    def with_prices(self, close: np.ndarray) -> Market:
        """The same panel with other closes (used by the look-ahead audit)."""
        return replace(self, close=close)

    def fingerprint(self) -> str:
        """SHA-256 of dates, tickers, closes and features: identifies the data of a run."""
        digest = hashlib.sha256()
        digest.update(self.dates.astype("datetime64[D]").astype(np.int64).tobytes())
        digest.update("\0".join(self.tickers).encode())
        digest.update(np.ascontiguousarray(self.close).tobytes())
        for name in sorted(self.features):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(self.features[name]).tobytes())
        if self.universe is not None:  # absent: the same digest as before universes existed
            digest.update(b"\0universe")
            digest.update(np.ascontiguousarray(self.universe).tobytes())
        for name in sorted(self.bars):  # strategies may read them: part of what a run depends on
            digest.update(f"bar:{name}".encode())
            digest.update(np.ascontiguousarray(self.bars[name]).tobytes())
        return digest.hexdigest()

    def day_digests(self) -> np.ndarray:
        """One 64-bit digest per row (n_days,) uint64 of what :meth:`fingerprint` covers on that row.

        Kept with a checkpoint so that data changed in the past can be located: the first
        row whose digest differs is the first day whose date, closes, features, universe or
        bars changed (tickers are part of every row).
        """
        n = len(self.dates)
        arrays = [
            self.dates.astype("datetime64[D]").astype(np.int64).reshape(n, -1),
            self.close.reshape(n, -1),
        ]
        arrays += [np.asarray(self.features[k]).reshape(n, -1) for k in sorted(self.features)]
        if self.universe is not None:
            arrays.append(self.universe.reshape(n, -1))
        arrays += [self.bars[k].reshape(n, -1) for k in sorted(self.bars)]
        head = "\0".join(self.tickers).encode()
        out = np.empty(n, dtype=np.uint64)
        for t in range(n):
            digest = hashlib.sha256(head)
            for array in arrays:
                digest.update(np.ascontiguousarray(array[t]).tobytes())
            out[t] = int.from_bytes(digest.digest()[:8], "little")
        return out


def _owned(array: np.ndarray) -> np.ndarray:
    """``array`` itself if it owns its memory, else a copy that does."""
    array = np.asarray(array)
    return array if array.base is None else array.copy()
