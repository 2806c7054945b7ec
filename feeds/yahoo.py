"""Yahoo Finance daily bars through yfinance, kept in an on-disk Parquet cache.

``fetch`` downloads into ``<cache_dir>/yahoo/<TICKER>.parquet`` (one validated
bars frame per ticker, ``BARS_SCHEMA``) and refreshes incrementally: it asks only
for the days after the cached ones, plus a few days of overlap. Yahoo's adjusted
closes are relative to today, so every dividend or split rescales the whole past;
when the overlap shows that (adjusted closes differ), the full history is
downloaded again so that old and new rows share one adjustment. Runs read the
cache only (``read_cached``) and never touch the network.

Offline, ``yf.download`` returns an empty frame instead of raising; that is turned
into an :class:`InputError` naming the cache and the file option.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from feeds.errors import InputError
from feeds.files import parse_price_frame
from feeds.schema import BARS_SCHEMA

OVERLAP_DAYS = 7
ADJ_TOLERANCE = 1e-6  # relative change of an overlapping adjusted close that forces a full refresh

Downloader = Callable[..., Any]  # the signature of yfinance.download


@dataclass(frozen=True)
class FetchReport:
    """What one ``fetch`` did for one ticker."""

    ticker: str
    path: Path
    rows: int
    added: int
    first: dt.date
    last: dt.date
    full_refresh: bool


def cache_path(cache_dir: Path, ticker: str) -> Path:
    """Where the cache keeps ``ticker`` (``<cache_dir>/yahoo/<TICKER>.parquet``)."""
    safe = ticker.upper().replace("/", "_").replace("\\", "_")
    return Path(cache_dir) / "yahoo" / f"{safe}.parquet"


def read_cached(cache_dir: Path, ticker: str) -> pl.DataFrame:
    """Bars of ``ticker`` from the cache; :class:`InputError` if it was never fetched."""
    path = cache_path(cache_dir, ticker)
    if not path.is_file():
        raise InputError(
            f"no cached Yahoo data for {ticker} in {path.parent} "
            f"(run `backtest data fetch {ticker}` while online, or use --data csv:PATH)"
        )
    return pl.read_parquet(path).cast(dict(BARS_SCHEMA))


def cached_tickers(cache_dir: Path) -> list[str]:
    """Tickers present in the cache, sorted."""
    folder = Path(cache_dir) / "yahoo"
    return sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []


def fetch(
    ticker: str,
    cache_dir: Path,
    *,
    download: Downloader | None = None,
    start: dt.date = dt.date(1900, 1, 1),
) -> FetchReport:
    """Download or refresh ``ticker`` into the cache and return what changed.

    ``download`` defaults to ``yfinance.download`` (tests pass a stub). The write
    is atomic (temp file, then rename): an interrupted fetch leaves the previous
    cache file intact.
    """
    if download is None:
        import yfinance  # heavy import, only when really downloading

        download = yfinance.download
    ticker = ticker.upper()
    path = cache_path(cache_dir, ticker)
    old = pl.read_parquet(path).cast(dict(BARS_SCHEMA)) if path.is_file() else None
    full = old is None
    since = start if full else old["date"].max() - dt.timedelta(days=OVERLAP_DAYS)
    new = _download(download, ticker, since, path)
    if old is not None and _adjustment_changed(old, new):
        new = _download(download, ticker, start, path)
        full = True
    merged = new if full else pl.concat([old.filter(pl.col("date") < new["date"].min()), new])
    merged = merged.sort("date")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    merged.write_parquet(partial)
    os.replace(partial, path)
    added = merged.height - (0 if old is None else old.height)
    return FetchReport(ticker, path, merged.height, added, merged["date"].min(), merged["date"].max(), full)


def _download(download: Downloader, ticker: str, since: dt.date, path: Path) -> pl.DataFrame:
    logger = logging.getLogger("yfinance")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # yfinance logs its own errors; ours is clearer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = download(
                ticker,
                start=since.isoformat(),
                interval="1d",
                auto_adjust=False,
                actions=False,
                progress=False,
                multi_level_index=False,
                threads=False,
            )
    except Exception as exc:  # network stacks raise many types; all mean "no data"
        frame, reason = None, f"{type(exc).__name__}: {exc}"
    else:
        reason = "empty response"
    finally:
        logger.setLevel(level)
    if frame is None or len(frame) == 0:
        raise InputError(
            f"Yahoo returned no data for {ticker} since {since} ({reason}; offline, or an "
            f"unknown ticker?). Cache: {path}"
            f"{' (has older data, left unchanged)' if path.is_file() else ' (empty)'}. "
            "Without network, use --data csv:PATH with a Yahoo CSV export."
        )
    pdf = frame.reset_index()
    pdf.columns = [str(c[0] if isinstance(c, tuple) else c) for c in pdf.columns]
    return parse_price_frame(pl.from_pandas(pdf), f"Yahoo download of {ticker}", ticker)


def _adjustment_changed(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    both = old.select("date", "close").join(new.select("date", pl.col("close").alias("new")), on="date")
    if both.height == 0:
        return True  # no overlap: cannot prove the adjustments agree
    rel = ((both["new"] / both["close"]) - 1).abs().max()
    return bool(rel is not None and rel > ADJ_TOLERANCE)
