"""A recorded-response stand-in for ``yfinance.download`` that publishes one more day each call.

It answers what Yahoo answers with ``auto_adjust=False, actions=True``: ``Close`` (and
Open/High/Low) divided by every split after the day *as of the publication day*,
``Adj Close`` also scaled for every dividend since (Yahoo's multiplier rule), ``Volume``
multiplied back, ``Dividends`` split-adjusted the same way as the closes, ``Stock Splits``
the ratio on its day (0 otherwise). So its answers rescale the past whenever a dividend or
split is published, exactly the behaviour the cache must not copy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


class PublishingYahoo:
    """``raw`` closes over ``dates`` with raw dividends and splits by row; ``published`` rows are visible.

    ``step``: rows published after each call (the "evening"); ``calls`` records each call's
    ``start`` and keyword arguments.
    """

    def __init__(
        self,
        dates: Sequence[np.datetime64],
        raw: np.ndarray,
        *,
        dividends: dict[int, float] | None = None,
        splits: dict[int, float] | None = None,
        published: int = 1,
        step: int = 0,
    ) -> None:
        self.dates = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates, dtype="datetime64[D]")), name="Date")
        self.raw = np.asarray(raw, dtype=float)
        self.dividends = dict(dividends or {})
        self.splits = dict(splits or {})
        self.published = published
        self.step = step
        self.calls: list[tuple[str, dict]] = []

    def frame(self, published: int) -> pd.DataFrame:
        """Yahoo's view of the first ``published`` rows, as of the last of them."""
        n = published
        raw = self.raw[:n]
        split = np.array([self.splits.get(i, 0.0) for i in range(n)])
        ratio = np.where(split > 0, split, 1.0)
        after = np.ones(n)  # product of split ratios after each row, up to the publication day
        after[:-1] = np.cumprod(ratio[::-1])[::-1][1:]
        close = raw / after
        div = np.array([self.dividends.get(i, 0.0) for i in range(n)]) / after
        # Yahoo's Adj Close: rows before an ex-date scaled by 1 - dividend / previous close
        mult = np.ones(n)
        for i in range(1, n):
            if div[i] > 0:
                mult[:i] *= 1.0 - div[i] / close[i - 1]
        return pd.DataFrame(
            {
                "Adj Close": close * mult,
                "Close": close,
                "Dividends": div,
                "High": close * 1.01,
                "Low": close * 0.99,
                "Open": close,
                "Stock Splits": split,
                "Volume": 1000.0 * after,
            },
            index=self.dates[:n],
        )

    def __call__(self, tickers: str, start: str | None = None, **kwargs: object) -> pd.DataFrame:
        self.calls.append((str(start), dict(kwargs)))
        data = self.frame(self.published)
        self.published = min(self.published + self.step, len(self.raw))
        return data[data.index >= pd.Timestamp(start)] if start else data
