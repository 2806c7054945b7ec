"""Every member of a point-in-time universe fetched into the Yahoo cache, and the coverage that leaves.

``fetch_universe`` downloads many tickers at once (one ``yfinance.download`` call
per batch) and writes each ticker through the per-ticker cache of
:mod:`feeds.yahoo` (``yahoo.fetch`` with a download function that serves the
ticker's slice of the batch), so the cache format, its atomic writes and its
incremental refresh are those of a single-ticker fetch.

Resumable: after every batch the outcome of each of its tickers is written to
``<cache_dir>/yahoo/_progress.json`` (atomically). A later call on the same UTC day
(``today``) skips tickers marked ``ok`` that day; a killed fetch resumes with only
what is missing (the failed ones included). On a later day every ticker is
refreshed incrementally (only the days after its cached ones).

Rate limits: a batch whose download raises (Yahoo answers rate limits with
exceptions) is retried after ``backoff * 2**attempt`` seconds (``sleep`` is
injectable), ``pause`` seconds pass between batches. A ticker missing from a
batch's answer is retried alone, with the same backoff, then reported as failed;
the rest proceed.

Coverage (:func:`coverage_by_year`): per calendar year, the members at the year's
last weekday (clamped to the membership data's range) and which of them have
cached bars around that day. pitindex carries no index weights (its columns are
ticker, name, cik and sector), so the share of index *weight* the missing names
leave out is unknown; the report gives the share of members.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from feeds import yahoo
from feeds.errors import InputError
from feeds.universe import Universe, normalize_ticker

if TYPE_CHECKING:  # pandas only where a download is parsed: a run imports this module for its constants
    import pandas as pd

PROGRESS_FILE = "_progress.json"
BATCH_SIZE = 50  # tickers per download call: large enough to be fast, small enough to retry cheaply
RETRIES = 3  # attempts after the first, per batch and per ticker
BACKOFF_S = 2.0  # first wait after a failed download; doubles per attempt
PAUSE_S = 1.0  # between batches: stays well under Yahoo's request rate
STALE_DAYS = 7  # a member counts as priced on a day if its cached bars reach within this many days of it
COVERAGE_WARN = 0.90  # below this share of members with prices in any year, a run warns (survivorship)


@dataclass
class UniverseFetchReport:
    """What one ``fetch_universe`` did: tickers fetched now, skipped (done earlier today), failed."""

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # ticker -> reason
    batches: int = 0  # download calls of whole batches (retries included)


def universe_tickers(universe: Universe, start: dt.date, end: dt.date | None = None) -> list[str]:
    """Every ticker (Yahoo spelling, sorted) that was a member on any day of ``[start, end]``.

    The range is clamped to the membership data (pitindex's S&P 500 starts
    2004-12-30); ``end`` None means the data's end (or today for a csv file).
    """
    lo = max(start, universe.start)
    hi = end or universe.end or dt.date.today()
    if universe.end is not None:
        hi = min(hi, universe.end)
    if hi < lo:
        raise InputError(f"--universe {universe.spec}: no membership data in {start}..{end}")
    if universe.index is None:
        return sorted({t for t, a, b in universe.intervals if a <= hi and (b is None or b >= lo)})
    import pitindex

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pitindex.StaleDataWarning)
        history = pitindex.get_constituents_history(lo, hi, index=universe.index)
    return sorted({normalize_ticker(t) for t in history["ticker"].tolist()})


def progress_path(cache_dir: Path) -> Path:
    """Where per-ticker fetch progress is kept (``<cache_dir>/yahoo/_progress.json``)."""
    return Path(cache_dir) / "yahoo" / PROGRESS_FILE


def read_progress(cache_dir: Path) -> dict[str, dict[str, Any]]:
    """ticker -> {"status": "ok"|"failed", "day": ISO day of the attempt, ...}; {} if none or unreadable."""
    path = progress_path(cache_dir)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a missing or damaged progress file only means "fetch everything again"
    return data if isinstance(data, dict) else {}


def _write_progress(cache_dir: Path, progress: dict[str, dict[str, Any]]) -> None:
    path = progress_path(cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    partial.write_text(json.dumps(progress, indent=0, sort_keys=True))
    os.replace(partial, path)


def fetch_universe(
    tickers: Sequence[str],
    cache_dir: Path,
    *,
    download: yahoo.Downloader | None = None,
    start: dt.date = dt.date(1900, 1, 1),
    batch_size: int = BATCH_SIZE,
    retries: int = RETRIES,
    backoff_s: float = BACKOFF_S,
    pause_s: float = PAUSE_S,
    sleep: Callable[[float], None] = time.sleep,
    today: dt.date | None = None,
    on_batch: Callable[[int, int, UniverseFetchReport], None] | None = None,
) -> UniverseFetchReport:
    """Fetch or refresh ``tickers`` into the cache in batches; see the module docstring.

    ``start``: first day asked for a ticker not yet cached. ``today`` (UTC date by
    default) decides what a resume skips. ``on_batch(done, total, report)`` is
    called after each batch (progress display). An exception that escapes (e.g. a
    kill) leaves every finished batch recorded.
    """
    if download is None:
        import yfinance  # heavy import, only when really downloading

        download = yfinance.download
    today = today or dt.datetime.now(dt.UTC).date()
    names = list(dict.fromkeys(normalize_ticker(t) for t in tickers))
    progress = read_progress(cache_dir)
    report = UniverseFetchReport()
    todo = []
    for name in names:
        entry = progress.get(name, {})
        if entry.get("status") == "ok" and entry.get("day") == today.isoformat() and _cached(cache_dir, name):
            report.skipped.append(name)
        else:
            todo.append(name)
    # new tickers first, cached ones after: a batch asks from its earliest day, so mixing the two would
    # download a cached ticker's whole history again
    todo.sort(key=lambda t: _cached(cache_dir, t))
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    for number, batch in enumerate(batches):
        if number and pause_s:
            sleep(pause_s)
        since = min(_since(cache_dir, t, start) for t in batch)
        frame = _batch_download(download, batch, since, retries, backoff_s, sleep, report)
        for name in batch:
            error = _fetch_one(download, name, cache_dir, start, since, frame, retries, backoff_s, sleep)
            if error is None:
                report.fetched.append(name)
                progress[name] = {"status": "ok", "day": today.isoformat()}
            else:
                report.failed[name] = error
                progress[name] = {"status": "failed", "day": today.isoformat(), "reason": error}
        _write_progress(cache_dir, progress)
        if on_batch is not None:
            on_batch(number + 1, len(batches), report)
    return report


def _cached(cache_dir: Path, ticker: str) -> bool:
    return yahoo.cache_path(cache_dir, ticker).is_file()


def _since(cache_dir: Path, ticker: str, start: dt.date) -> dt.date:
    path = yahoo.cache_path(cache_dir, ticker)
    if not path.is_file():
        return start
    last = pl.scan_parquet(path).select(pl.col("date").max()).collect().item()
    return last - dt.timedelta(days=yahoo.OVERLAP_DAYS)


def _batch_download(
    download: yahoo.Downloader,
    batch: list[str],
    since: dt.date,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None],
    report: UniverseFetchReport,
) -> pd.DataFrame | None:
    """One download call for the whole batch (columns (ticker, field)); None after the last retry."""
    logger = logging.getLogger("yfinance")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        for attempt in range(retries + 1):
            if attempt:
                sleep(backoff_s * 2 ** (attempt - 1))
            report.batches += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    frame = download(
                        batch,
                        start=since.isoformat(),
                        interval="1d",
                        auto_adjust=False,
                        actions=True,  # dividends and splits: the cache keeps them as events
                        progress=False,
                        group_by="ticker",
                        multi_level_index=True,
                        threads=True,
                    )
            except Exception:  # rate limits and network errors: wait and try again
                continue
            if frame is not None and len(frame):
                return frame
        return None
    finally:
        logger.setLevel(level)


def _slice(frame: pd.DataFrame | None, ticker: str) -> pd.DataFrame | None:
    """``ticker``'s columns of a batch frame, rows without a close dropped; None if absent or empty."""
    import pandas as pd

    if frame is None or not isinstance(frame.columns, pd.MultiIndex):
        return None
    if ticker not in frame.columns.get_level_values(0):
        return None
    part = frame[ticker]
    closes = [c for c in ("Adj Close", "Close") if c in part.columns]
    part = part.dropna(subset=closes, how="all") if closes else part.iloc[0:0]
    return part if len(part) else None


def _fetch_one(
    download: yahoo.Downloader,
    ticker: str,
    cache_dir: Path,
    start: dt.date,
    since: dt.date,
    frame: pd.DataFrame | None,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None],
) -> str | None:
    """Write ``ticker`` through ``yahoo.fetch``; None on success, else the last reason."""
    import pandas as pd

    part = _slice(frame, ticker)

    def serve(symbol: Any, *, start: str, **kwargs: Any) -> pd.DataFrame:
        # the batch answers requests it covers; a full refresh (adjustments changed) asks for earlier days
        if part is not None and dt.date.fromisoformat(start) >= since:
            return part[part.index >= pd.Timestamp(start)]
        return download(symbol, start=start, **kwargs)

    reason = "not in the batch's answer"
    for attempt in range(retries + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            source = serve if attempt == 0 and part is not None else download
            yahoo.fetch(ticker, cache_dir, download=source, start=start)
            return None
        except InputError as exc:
            reason = str(exc)
        except Exception as exc:  # a bad answer must not stop the other tickers
            reason = f"{type(exc).__name__}: {exc}"
    return reason


# -- coverage ----------------------------------------------------------------------------------------


def cached_ranges(
    cache_dir: Path, tickers: Iterable[str] | None = None
) -> dict[str, tuple[dt.date, dt.date]]:
    """ticker -> (first, last) day of its cached bars (only the date column is read)."""
    names = yahoo.cached_tickers(cache_dir) if tickers is None else [normalize_ticker(t) for t in tickers]
    ranges = {}
    for name in names:
        path = yahoo.cache_path(cache_dir, name)
        if path.is_file():
            got = pl.scan_parquet(path).select(
                pl.col("date").min().alias("a"), pl.col("date").max().alias("b")
            )
            row = got.collect().row(0)
            if row[0] is not None:
                ranges[normalize_ticker(name)] = (row[0], row[1])
    return ranges


def bars_ranges(bars: pl.DataFrame) -> dict[str, tuple[dt.date, dt.date]]:
    """ticker -> (first, last) day with a close, from a bars frame."""
    got = (
        bars.filter(pl.col("close").is_not_null())
        .group_by("ticker")
        .agg(pl.col("date").min().alias("a"), pl.col("date").max().alias("b"))
    )
    return {normalize_ticker(t): (a, b) for t, a, b in got.iter_rows()}


def _year_day(year: int) -> dt.date:
    day = dt.date(year, 12, 31)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def coverage_by_year(
    universe: Universe,
    ranges: dict[str, tuple[dt.date, dt.date]],
    first_year: int,
    last_year: int,
) -> list[dict[str, Any]]:
    """Per year: members at its last weekday (clamped to the membership data) and those with bars there.

    A member "has data" when its bars start on or before the day and reach within
    ``STALE_DAYS`` of it. Rows: ``year``, ``day``, ``members``, ``with_data``,
    ``share`` (with_data / members), ``missing`` (sorted), ``weight_missing``
    (None: the membership source has no weights).
    """
    rows = []
    for year in range(first_year, last_year + 1):
        day = _year_day(year)
        if universe.end is not None:
            day = min(day, universe.end)
        if day < universe.start:
            continue
        members = universe.members_at(day)
        have = {
            t
            for t in members
            if t in ranges and ranges[t][0] <= day and ranges[t][1] >= day - dt.timedelta(days=STALE_DAYS)
        }
        rows.append(
            {
                "year": year,
                "day": day.isoformat(),
                "members": len(members),
                "with_data": len(have),
                "share": len(have) / len(members) if members else 0.0,
                "missing": sorted(members - have),
                "weight_missing": None,
            }
        )
    return rows


def coverage_report_lines(spec: str, rows: list[dict[str, Any]], shown: int = 12) -> list[str]:
    """Text lines of a coverage report; names at most ``shown`` missing tickers per year."""
    lines = [
        f"coverage of --universe {spec}: members with data at each year's last weekday "
        "(index weights: not in the membership data, so the weight left out is unknown)"
    ]
    for row in rows:
        missing = row["missing"]
        named = ", ".join(missing[:shown]) + (
            f", ... (+{len(missing) - shown})" if len(missing) > shown else ""
        )
        flag = "  LOW" if row["share"] < COVERAGE_WARN else ""
        lines.append(
            f"  {row['year']}: {row['with_data']:>3} of {row['members']:>3} members ({row['share']:6.1%}) "
            f"on {row['day']}{flag}" + (f"; missing {named}" if missing else "")
        )
    return lines
