"""Yahoo Finance daily bars through yfinance, kept in an on-disk Parquet cache as raw prices and events.

The cache (``<cache_dir>/yahoo/<TICKER>.parquet``, one file per ticker) holds what
happened, never a rescaled view of it:

- ``date, ticker, open, high, low, close, volume``: the *raw* bar of each trading day,
  the prices as they traded that day (not adjusted for later splits or dividends),
  ``volume`` in shares of that day;
- ``dividend``: the cash distribution per share (of that day) going ex on ``date``
  (dividends plus a fund's capital-gain distributions; 0 on other days);
- ``split``: the split ratio taking effect on ``date`` (new shares per old share,
  2.0 for a 2:1 split; 1.0 on other days).

yfinance's ``download(..., auto_adjust=False, actions=True)`` gives Yahoo's ``Close``
(adjusted for every split up to the download day, not for dividends), ``Adj Close``
(also for dividends: ignored here), ``Dividends`` and ``Stock Splits`` (0 when none),
and for funds ``Capital Gains``. Yahoo's split adjustment is undone on the way in:
the raw close of day t is Yahoo's close times every split ratio after t in the same
download (an incremental download from day s holds every split after any t >= s), and
the same for open/high/low and dividends (volume divided).

Nothing stored changes when a dividend or split arrives, so a refresh only appends:
``fetch`` asks for the days after the cached ones plus ``OVERLAP_DAYS`` of overlap,
keeps the cached rows before the download and takes the download from there on. An
overlapping raw close or event that differs from the cached one is a real data
correction by Yahoo: it is taken and reported (``FetchReport.corrections``), never
silent. A cache file written before events were kept (adjusted closes only) is
re-downloaded in full by the next ``fetch``; reading one for a run is refused with
one line saying to re-fetch.

Runs read the cache only and never touch the network. They get prices that never
change backwards (:func:`read_cached`): *forward* split-adjusted, i.e. each row is
multiplied by the product of the split ratios from the cache's first row up to and
including its own day, so a new split changes only the rows on and after it; and
dividends as dated events per share of those same forward-adjusted prices
(:func:`read_events`), which ``engine.pipeline.basis`` accrues on the ex-dates into
the total return (``tr[t] = tr[t-1] * (close[t] + dividend[t]) / close[t-1]``, the rule
the S&P 500 index gets with Shiller's dividends).

Offline, ``yf.download`` returns an empty frame instead of raising; that is turned
into an :class:`InputError` naming the cache and the file option.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feeds.errors import InputError
from feeds.files import parse_price_frame
from feeds.schema import BARS_SCHEMA

OVERLAP_DAYS = 7
# relative change of an overlapping raw close (or event) that counts as a correction by Yahoo;
# raw closes are stored as downloaded (float64 from one scaling), so equal days agree far below it
CORRECTION_TOLERANCE = 1e-6
EVENT_COLUMNS = ("dividend", "split")
CACHE_SCHEMA = pl.Schema({**dict(BARS_SCHEMA), "dividend": pl.Float64(), "split": pl.Float64()})

Downloader = Callable[..., Any]  # the signature of yfinance.download


@dataclass(frozen=True)
class FetchReport:
    """What one ``fetch`` did for one ticker.

    ``corrections``: one line per overlapping day whose raw close or event Yahoo changed
    (oldest first; the new values were taken). ``migrated``: the cache file was in the
    old adjusted-close format and was fetched again in full.
    """

    ticker: str
    path: Path
    rows: int
    added: int
    first: dt.date
    last: dt.date
    full_refresh: bool
    corrections: tuple[str, ...] = field(default=())
    migrated: bool = False


def cache_path(cache_dir: Path, ticker: str) -> Path:
    """Where the cache keeps ``ticker`` (``<cache_dir>/yahoo/<TICKER>.parquet``)."""
    safe = ticker.upper().replace("/", "_").replace("\\", "_")
    return Path(cache_dir) / "yahoo" / f"{safe}.parquet"


def _old_format(frame: pl.DataFrame) -> bool:
    return not all(c in frame.columns for c in EVENT_COLUMNS)


def read_raw(cache_dir: Path, ticker: str) -> pl.DataFrame:
    """The cached file of ``ticker`` as stored (``CACHE_SCHEMA``: raw bars, dividends, splits), by date.

    :class:`InputError` if it was never fetched, or was written in the old adjusted-close format.
    """
    path = cache_path(cache_dir, ticker)
    if not path.is_file():
        raise InputError(
            f"no cached Yahoo data for {ticker} in {path.parent} "
            f"(run `backtest data fetch {ticker}` while online, or use --data csv:PATH)"
        )
    frame = pl.read_parquet(path)
    if _old_format(frame):
        raise InputError(
            f"{path}: an old-format Yahoo cache file (adjusted closes, rescaled by every dividend and "
            f"split); run `backtest data fetch {ticker.upper()}` to fetch it again as raw closes with "
            "dividend and split events"
        )
    return frame.select(CACHE_SCHEMA.names()).cast(dict(CACHE_SCHEMA)).sort("date")


def split_factor(split: np.ndarray) -> np.ndarray:
    """Forward split factor per row: product of the split ratios after row 0 up to and including the row.

    Row 0's own split (if any) happened before the first price the cache holds, so it counts as 1.
    """
    ratios = np.where(np.isfinite(split) & (split > 0), split, 1.0).astype(np.float64)
    ratios[:1] = 1.0
    return np.cumprod(ratios)


def read_cached(cache_dir: Path, ticker: str) -> pl.DataFrame:
    """Bars of ``ticker`` (``BARS_SCHEMA``) for runs: raw prices forward split-adjusted (module docstring).

    Prices are multiplied and volume divided by :func:`split_factor`, so row t never
    changes when a later split arrives; dividends are not in these prices (see :func:`read_events`).
    """
    raw = read_raw(cache_dir, ticker)
    factor = pl.Series("factor", split_factor(raw["split"].to_numpy()))
    frame = raw.with_columns(factor).with_columns(
        *(pl.col(c) * pl.col("factor") for c in ("open", "high", "low", "close")),
        pl.col("volume") / pl.col("factor"),
    )
    return frame.select(BARS_SCHEMA.names()).cast(dict(BARS_SCHEMA))


def read_events(cache_dir: Path, ticker: str) -> tuple[np.ndarray, np.ndarray]:
    """Dividends of ``ticker``: (ex-dates ``datetime64[D]``, cash per unit of :func:`read_cached`'s prices).

    Each raw amount is multiplied by the same forward split factor as that day's prices,
    so it is the cash paid per unit of the price series a run sees on its ex-date.
    """
    raw = read_raw(cache_dir, ticker)
    amounts = raw["dividend"].fill_null(0.0).to_numpy() * split_factor(raw["split"].to_numpy())
    paid = amounts > 0
    dates = raw["date"].to_numpy().astype("datetime64[D]")
    return dates[paid], amounts[paid]


def read_total_return(cache_dir: Path, ticker: str) -> pl.DataFrame:
    """Bars of ``ticker`` with dividends reinvested in the prices (total-return closes from row 0).

    For consumers that want one adjusted price series (the panel builder); open/high/low are
    scaled by the same factor as the close. Runs on ``yahoo:`` data do not use this: their
    basis accrues :func:`read_events` instead, stated in the run's basis line.
    """
    from feeds.dividends import accrue_ex_dates, total_return_close

    bars = read_cached(cache_dir, ticker)
    close = bars["close"].to_numpy()
    dates = bars["date"].to_numpy().astype("datetime64[D]")
    ex_dates, amounts = read_events(cache_dir, ticker)
    tr = total_return_close(close, accrue_ex_dates(dates, ex_dates, amounts)) if len(close) else close
    scale = pl.Series("scale", tr / close)
    return (
        bars.with_columns(scale)
        .with_columns(*(pl.col(c) * pl.col("scale") for c in ("open", "high", "low", "close")))
        .drop("scale")
    )


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

    ``download`` defaults to ``yfinance.download`` (tests pass a stub). A refresh
    appends: cached rows before the overlap are kept as they are. The write is
    atomic (temp file, then rename): an interrupted fetch leaves the previous cache
    file intact.
    """
    if download is None:
        import yfinance  # heavy import, only when really downloading

        download = yfinance.download
    ticker = ticker.upper()
    path = cache_path(cache_dir, ticker)
    old = pl.read_parquet(path) if path.is_file() else None
    migrated = old is not None and _old_format(old)
    if old is not None and not migrated:
        old = old.select(CACHE_SCHEMA.names()).cast(dict(CACHE_SCHEMA)).sort("date")
    full = old is None or migrated
    since = start if full else old["date"].max() - dt.timedelta(days=OVERLAP_DAYS)
    new = _download(download, ticker, since, path)
    corrections: tuple[str, ...] = ()
    if full:
        merged = new
    else:
        corrections = _corrections(old, new)
        merged = pl.concat([old.filter(pl.col("date") < new["date"].min()), new])
    merged = merged.sort("date")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    merged.write_parquet(partial)
    os.replace(partial, path)
    added = merged.height - (0 if old is None or migrated else old.height)
    return FetchReport(
        ticker,
        path,
        merged.height,
        added,
        merged["date"].min(),
        merged["date"].max(),
        full,
        corrections,
        migrated,
    )


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
                auto_adjust=False,  # Close: split-adjusted only; dividends come as events
                actions=True,  # the Dividends and Stock Splits columns
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
    return raw_from_download(pl.from_pandas(pdf), f"Yahoo download of {ticker}", ticker)


def raw_from_download(frame: pl.DataFrame, origin: str, ticker: str) -> pl.DataFrame:
    """A yfinance frame (``Date, Open, High, Low, Close, [Adj Close,] Volume[, Dividends, Stock Splits,
    Capital Gains]``) as cache rows (``CACHE_SCHEMA``): Yahoo's split adjustment undone.

    ``Adj Close`` is not used. An event on a row without a close (Yahoo sends some) moves
    to the next row with one (an ex-date accrues at the first close on or after it); events
    after the last close are dropped (they arrive again with their day).
    """
    columns = {c.lower().replace(" ", ""): c for c in frame.columns}

    def column(name: str) -> np.ndarray:
        source = columns.get(name)
        if source is None:
            return np.zeros(frame.height)
        return frame[source].cast(pl.Float64, strict=False).fill_null(0.0).fill_nan(0.0).to_numpy()

    dividend = column("dividends") + column("capitalgains")
    split = column("stocksplits")
    split = np.where(split > 0, split, 1.0)
    close_col = columns.get("close")
    if close_col is not None:
        has_close = frame[close_col].cast(pl.Float64, strict=False).fill_nan(None).is_not_null().to_numpy()
        if not has_close.all():
            # carry events of close-less rows onto the next row with a close
            group = np.cumsum(has_close[::-1])[::-1]  # rows sharing the next close share a number
            keep = np.flatnonzero(has_close)
            dividend = np.array([dividend[group == group[k]].sum() for k in keep])
            split = np.array([np.prod(split[group == group[k]]) for k in keep])
            frame = frame.filter(pl.Series(has_close))
    prices = frame.drop([c for c in frame.columns if c.lower().replace(" ", "") == "adjclose"])
    bars = parse_price_frame(prices, origin, ticker)  # validated; sorted by date (one ticker)
    order = np.argsort(frame[columns.get("date", frame.columns[0])].to_numpy(), kind="stable")
    dividend, split = dividend[order], split[order]
    # Yahoo's close on day t is divided by every split after t: multiply them back
    after = np.ones(len(split))
    after[:-1] = np.cumprod(split[::-1])[::-1][1:]
    scale = pl.Series("scale", after)
    raw = bars.with_columns(scale).with_columns(
        *(pl.col(c) * pl.col("scale") for c in ("open", "high", "low", "close")),
        pl.col("volume") / pl.col("scale"),
        pl.Series("dividend", dividend * after),
        pl.Series("split", split),
    )
    return raw.select(CACHE_SCHEMA.names()).cast(dict(CACHE_SCHEMA))


def _corrections(old: pl.DataFrame, new: pl.DataFrame) -> tuple[str, ...]:
    """Overlapping days whose raw close, dividend or split differ between the cache and the download."""
    both = old.select("date", "close", "dividend", "split").join(
        new.select("date", *(pl.col(c).alias(f"new_{c}") for c in ("close", "dividend", "split"))),
        on="date",
    )
    out = []
    for row in both.sort("date").iter_rows(named=True):
        for name in ("close", "dividend", "split"):
            a, b = row[name], row[f"new_{name}"]
            if abs(b - a) > CORRECTION_TOLERANCE * max(abs(a), abs(b), 1e-12):
                what = "raw close" if name == "close" else name
                out.append(f"{row['date']}: {what} {a:g} -> {b:g}")
    return tuple(out)
