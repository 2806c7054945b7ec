"""A panel store: the bars of many tickers over many years as one Parquet dataset, read lazily.

Layout (hive-style, one file per calendar year, see docs/scaling.md for why)::

    PATH/year=1995/part.parquet     # every ticker's bars of 1995, sorted by (ticker, date)
    PATH/year=1996/part.parquet
    ...
    PATH/tickers.txt                # every ticker of the dataset, one a line

Columns are ``BARS_SCHEMA`` (date, ticker, open, high, low, close, volume).
:func:`load_panel` scans it with ``pl.scan_parquet`` and reads only the years of
the requested range (the year files are chosen by folder name: the others are
never opened), only the asked columns and, with ``tickers``, only their rows
(Parquet row-group statistics on ``ticker``, the sort key); the result is
validated like any price file
(:func:`feeds.schema.validate_bars`). ``--data panel:PATH`` reads it;
``backtest data panel PATH`` builds it from the Yahoo cache. Writes are atomic
(a complete new folder replaces the old one).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from feeds import yahoo
from feeds.errors import InputError
from feeds.schema import BARS_SCHEMA, ROW, validate_bars

YEAR = "year"
# every ticker of the dataset, one a line, beside the year folders (not *.parquet: a reader that
# globs PATH/**/*.parquet, as this module did before the list existed, must not take it for bars)
TICKERS_FILE = "tickers.txt"
ROW_GROUP = 64_000  # rows per row group: ~130 tickers of one year, so a ticker filter skips most groups


def write_panel(bars: pl.DataFrame, path: Path) -> Path:
    """Write a bars frame (``BARS_SCHEMA``) as a year-partitioned dataset at ``path``; returns ``path``."""
    path = Path(path)
    frame = bars.select(list(BARS_SCHEMA)).cast(dict(BARS_SCHEMA)).sort("ticker", "date")
    partial = path.with_name(path.name + f".{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    for (year,), part in frame.group_by(pl.col("date").dt.year().alias(YEAR), maintain_order=True):
        folder = partial / f"{YEAR}={year}"
        folder.mkdir(parents=True)
        part.drop(YEAR, strict=False).write_parquet(folder / "part.parquet", row_group_size=ROW_GROUP)
    # the names alone, so a ranged read knows every ticker without opening the other years
    names = sorted(frame["ticker"].unique().to_list())
    (partial / TICKERS_FILE).write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    old = path.with_name(path.name + f".{os.getpid()}.old")
    if path.exists():
        os.replace(path, old)
    os.replace(partial, path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def build_from_cache(cache_dir: Path, path: Path, tickers: Sequence[str] | None = None) -> Path:
    """The panel of every cached Yahoo ticker (or of ``tickers``) written to ``path``."""
    names = list(tickers) if tickers is not None else yahoo.cached_tickers(cache_dir)
    if not names:
        raise InputError(f"the cache {Path(cache_dir) / 'yahoo'} is empty: nothing to build a panel from")
    # one price series per ticker: dividends reinvested in the closes (the panel holds no events)
    return write_panel(pl.concat([yahoo.read_total_return(cache_dir, t) for t in names]), path)


def year_files(path: Path, first: int | None = None, last: int | None = None) -> list[Path]:
    """The dataset's year files, oldest first; with ``first``/``last`` only those years (inclusive).

    Chosen from the folder names, so a file outside the years is never opened (a
    scan over every file would still read the first one's footer for its schema).
    """
    path = Path(path)
    files = []
    for folder in path.glob(f"{YEAR}=*"):
        try:
            year = int(folder.name.partition("=")[2])
        except ValueError:
            continue  # not a partition folder (a stray file or a half-written copy)
        if (first is None or year >= first) and (last is None or year <= last):
            files += [(year, f) for f in sorted(folder.glob("*.parquet"))]
    return [f for _, f in sorted(files)]


def panel_tickers(path: Path) -> tuple[str, ...]:
    """Every ticker of the dataset, sorted: from its ticker list (one small file), or, for a
    panel written before that file existed, from the ticker column of every year file."""
    path = Path(path)
    try:
        if (path / TICKERS_FILE).is_file():
            names = (path / TICKERS_FILE).read_text(encoding="utf-8").split()
        else:
            names = scan_panel(path).select(pl.col("ticker").unique()).collect()["ticker"].to_list()
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"panel {path}: cannot read its tickers: {exc}") from exc
    return tuple(sorted(str(t) for t in names))


def scan_panel(path: Path, first: int | None = None, last: int | None = None) -> pl.LazyFrame:
    """The dataset as a lazy frame (columns ``BARS_SCHEMA`` plus the partition column ``year``),
    over the year files ``first..last`` only (all years when None); see :func:`year_files`."""
    path = Path(path)
    if not path.is_dir() or not year_files(path):
        raise InputError(f"{path}: not a panel dataset (expected {path}/year=YYYY/*.parquet)")
    files = year_files(path, first, last)
    if not files:  # no year in range: an empty frame of the right columns, reported by load_panel
        empty = pl.DataFrame(schema={**dict(BARS_SCHEMA), YEAR: pl.Int64})
        return empty.lazy()
    return pl.scan_parquet(files, hive_partitioning=True)


def load_panel(
    path: Path,
    *,
    tickers: Sequence[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    columns: Sequence[str] = ("close",),
    indices: bool = False,
) -> pl.DataFrame:
    """Validated bars (``BARS_SCHEMA``) of ``tickers`` (all if None) in ``[start, end]`` (inclusive).

    Only ``columns`` (besides date and ticker) are read; the other bar fields are
    null. ``start``/``end`` prune whole year files before anything is read (the
    files of other years are not opened). ``indices``: with ``tickers``, keep every
    index (``^`` ticker) too, for a run's index benchmark.
    """
    unknown = [c for c in columns if c not in BARS_SCHEMA]
    if unknown:
        raise InputError(f"panel {path}: unknown column(s) {', '.join(unknown)}")
    # the range prunes whole year files before polars sees them (scan_panel)
    lazy = scan_panel(path, start.year if start else None, end.year if end else None)
    if start is not None:
        lazy = lazy.filter(pl.col(YEAR) >= start.year, pl.col("date") >= start)
    if end is not None:
        lazy = lazy.filter(pl.col(YEAR) <= end.year, pl.col("date") <= end)
    if tickers is not None:
        wanted_rows = pl.col("ticker").is_in([t.strip().upper() for t in tickers])
        if indices:
            wanted_rows = wanted_rows | pl.col("ticker").str.starts_with("^")
        lazy = lazy.filter(wanted_rows)
    wanted = ["date", "ticker", *dict.fromkeys(c for c in columns if c not in ("date", "ticker"))]
    try:
        frame = lazy.select(wanted).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"panel {path}: cannot read: {exc}") from exc
    frame = frame.with_columns(
        pl.lit(None, BARS_SCHEMA[c]).alias(c) for c in BARS_SCHEMA if c not in frame.columns
    )
    try:
        frame = frame.select(list(BARS_SCHEMA)).cast(dict(BARS_SCHEMA))
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"panel {path}: columns of the wrong type: {exc}") from exc
    if frame.height == 0:
        raise InputError(f"panel {path}: no rows for the requested tickers and dates")
    return validate_bars(frame.sort("ticker", "date").with_row_index(ROW, offset=1), f"panel {path}")
