"""Data specs: the ``--data`` strings that name where prices come from.

- ``sample``: the bundled sample (:mod:`feeds.sample`), the default everywhere;
- ``csv:PATH`` / ``parquet:PATH``: a price file (:mod:`feeds.files`); a bare path
  ending in ``.csv`` or ``.parquet`` works too;
- ``yahoo:TICKER[,TICKER...]``: tickers from the Yahoo cache (:mod:`feeds.yahoo`),
  filled beforehand by ``backtest data fetch``;
- ``panel:PATH``: a year-partitioned Parquet dataset of many tickers
  (:mod:`feeds.panel`, built by ``backtest data panel``), read lazily.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from feeds import files, sample, yahoo
from feeds.errors import InputError
from feeds.exchange_calendar import warn_calendar_mismatches
from feeds.market import Market

SCHEMES = ("sample", "csv", "parquet", "yahoo", "panel")
PANEL_FIELDS = ("open", "high", "low", "close", "volume")  # what a run may use of a panel's bars


@dataclass(frozen=True)
class DataSpec:
    """A parsed ``--data`` string."""

    scheme: str
    target: str = ""

    @classmethod
    def parse(cls, text: str) -> DataSpec:
        text = text.strip()
        if text == "sample":
            return cls("sample")
        scheme, sep, target = text.partition(":")
        if sep and scheme in SCHEMES and target:
            return cls(scheme, target)
        suffix = Path(text).suffix.lower()
        if suffix in (".csv", ".parquet", ".pq"):
            return cls("csv" if suffix == ".csv" else "parquet", text)
        raise InputError(
            f"--data {text!r}: expected sample, csv:PATH, parquet:PATH, yahoo:TICKER[,TICKER] or panel:PATH"
        )

    def __str__(self) -> str:
        return self.scheme if self.scheme == "sample" else f"{self.scheme}:{self.target}"


def load_bars(spec: DataSpec, *, tickers: Sequence[str] = (), cache_dir: Path | None = None) -> pl.DataFrame:
    """Bars (``BARS_SCHEMA``) for a data spec.

    ``tickers`` names the instrument of a one-ticker file (a single name), and is
    otherwise applied later by :meth:`Market.select`. ``cache_dir`` is the cache
    root for ``yahoo:`` specs.
    """
    if spec.scheme == "sample":
        return sample.read_sample()
    if spec.scheme in ("csv", "parquet"):
        path = Path(spec.target).expanduser()
        if spec.scheme == "csv" and path.suffix.lower() in (".parquet", ".pq"):
            raise InputError(f"--data csv:{spec.target}: this is a Parquet file; use parquet:PATH")
        frame = files.read_price_file(path, ticker=tickers[0] if len(tickers) == 1 else None)
        return frame
    if spec.scheme == "yahoo":
        if cache_dir is None:
            raise ValueError("cache_dir is required for yahoo: data")
        names = [t.strip().upper() for t in spec.target.split(",") if t.strip()]
        return pl.concat([yahoo.read_cached(cache_dir, t) for t in names])
    if spec.scheme == "panel":
        from feeds import panel

        # all tickers (benchmarks are chosen later, by Market.select), every bar field a run may use
        return panel.load_panel(Path(spec.target).expanduser(), columns=PANEL_FIELDS)
    raise InputError(f"unknown data scheme {spec.scheme!r}")


def load_market(
    spec: DataSpec,
    *,
    tickers: Sequence[str] = (),
    cache_dir: Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    only: Sequence[str] | None = None,
) -> Market:
    """The full market panel of a data spec (all its tickers, all its days).

    ``start``/``end`` (inclusive) and ``only`` (tickers; the indices are kept too)
    say what the caller will keep (it still cuts: ``Market.between``,
    ``Market.select``). A ``panel:`` dataset then reads only those years' files
    and those tickers' rows (:func:`_panel_market`); other sources read everything.
    """
    origin = spec.target if spec.scheme in ("csv", "parquet", "panel") else str(spec)
    if spec.scheme == "panel" and (start, end, only) != (None, None, None):
        market = _panel_market(Path(spec.target).expanduser(), origin, start, end, only)
    else:
        market = Market.from_bars(load_bars(spec, tickers=tickers, cache_dir=cache_dir), origin=origin)
    # a file that misses sessions or trades on holidays is kept as given, with one warning
    warn_calendar_mismatches(market.dates, market.close, market.tickers, origin)
    return market


def _panel_market(
    path: Path, origin: str, start: dt.date | None, end: dt.date | None, only: Sequence[str] | None
) -> Market:
    """A panel's market over ``[start, end]``, of ``only`` and the indices (all tickers if None).

    The same market as the whole dataset's cut to the range and tickers: every
    ticker of the dataset (of those kept) is a column, all NaN where it has no bar
    in the range. When ``only`` names a ticker the panel lacks, every ticker is
    read, so the run fails (or, for a one-ticker panel, runs) as after a whole read.
    """
    from feeds import panel

    names = panel.panel_tickers(path)
    asked = None if only is None else {t.strip().upper() for t in only}
    if asked is not None and asked <= set(names):
        names = tuple(t for t in names if t in asked or t.startswith("^"))
    else:
        asked = None
    bars = panel.load_panel(
        path,
        columns=PANEL_FIELDS,
        start=start,
        end=end,
        tickers=None if asked is None else sorted(asked),
        indices=True,
    )
    market = Market.from_bars(bars, origin=origin)
    missing = [t for t in names if t not in market.tickers]
    if not missing:
        return market
    tickers = tuple(sorted((*market.tickers, *missing)))
    at = np.searchsorted(tickers, market.tickers)  # each read column's place among all

    def widen(values: np.ndarray) -> np.ndarray:
        out = np.full((market.n_days, len(tickers)), np.nan)
        out[:, at] = values
        return out

    wide = {name: widen(values) for name, values in market.bars.items()}
    return Market(dates=market.dates, tickers=tickers, close=widen(market.close), origin=origin, bars=wide)
