"""Price files: CSV or Parquet, in the Yahoo export layout or a long layout.

Layouts (column names are case-insensitive; spaces, dashes and underscores are
ignored, so ``Adj Close``, ``adj_close`` and ``AdjClose`` are the same column):

- **Yahoo export**, one ticker per file: ``Date,Open,High,Low,Close,Adj Close,Volume``.
  The ticker comes from the ``ticker`` argument, else from the file name
  (``SPY.csv`` -> ``SPY``).
- **Long**, many tickers: ``date,ticker,close[,open,high,low,volume]`` (``symbol``
  is accepted for ``ticker``; ``adj close`` too).

``Adj Close`` is preferred over ``Close`` where present; ``open``/``high``/``low``
are then scaled by the same adjustment factor (adj close / close) so a bar stays
self-consistent. A date may carry a time of day (``2020-01-02 00:00:00-05:00`` as
yfinance writes it): the date part is the trading day. Several distinct times on
one day mean intraday data, which is rejected.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import polars as pl

from feeds.errors import InputError
from feeds.schema import ROW, validate_bars, where

_ALIASES = {
    "date": "date",
    "datetime": "date",
    "timestamp": "date",
    "time": "date",
    "ticker": "ticker",
    "symbol": "ticker",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adjclose": "adj_close",
    "adjustedclose": "adj_close",
    "volume": "volume",
}
_NUMERIC = ("open", "high", "low", "close", "adj_close", "volume")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d")
_NULL_WORDS = ("", "null", "nan", "na", "n/a", "none", "-")


def canonical_name(column: str) -> str | None:
    """Our name for a source column (``'Adj Close'`` -> ``'adj_close'``), or None."""
    return _ALIASES.get(re.sub(r"[\s_\-]", "", column.strip().lower()))


# the first bytes of an Excel workbook: xlsx is a zip archive, xls an OLE2 compound file
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def check_readable_file(path: Path, origin: str) -> None:
    """Raise :class:`InputError` unless ``path`` is a file we can read as a table.

    Says "is a directory" for a folder and "looks like an Excel file" for a workbook
    whatever its name ends with (a renamed .xlsx would otherwise read as bad utf-8).
    """
    if path.is_dir():
        raise InputError(f"{origin}: is a directory, not a file (name the csv or parquet file inside it)")
    if not path.is_file():
        raise InputError(f"{origin}: no such file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"{origin}: cannot read: {exc.strerror or exc}") from None
    if head.startswith(_EXCEL_MAGIC):
        raise InputError(f"{origin}: this looks like an Excel file (xlsx/xls); save it as CSV first")


def read_price_file(path: str | Path, ticker: str | None = None) -> pl.DataFrame:
    """Read a CSV or Parquet price file into a validated bars frame (``BARS_SCHEMA``).

    ``ticker`` names the instrument of a one-ticker (Yahoo layout) file; for a long
    file it is ignored here (select tickers afterwards). Raises :class:`InputError`
    naming file, row and field for anything that cannot be used.
    """
    path = Path(path)
    origin = str(path)
    check_readable_file(path, origin)
    return parse_price_frame(_read_raw(path, origin), origin, ticker or _ticker_from_name(path))


def parse_price_frame(raw: pl.DataFrame, origin: str, ticker: str) -> pl.DataFrame:
    """Turn a frame read from a source into a validated bars frame.

    ``raw`` has the source's own columns (any layout above, text or typed);
    ``origin`` names the source in messages; ``ticker`` names a one-ticker frame.
    """
    fields: dict[str, str] = {}
    for column in raw.columns:
        ours = canonical_name(column)
        if ours is not None and ours not in fields:
            fields[ours] = column
    missing = [c for c in ("date",) if c not in fields]
    if "close" not in fields and "adj_close" not in fields:
        missing.append("close (or adj close)")
    if missing:
        raise InputError(
            f"{origin}: missing column {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(raw.columns) or 'no columns'})"
        )
    if raw.height == 0:
        raise InputError(f"{origin}: no data rows")

    frame = raw.select(pl.col(src).alias(ours) for ours, src in fields.items())
    frame = frame.with_row_index(ROW, offset=1)
    frame = _parse_dates(frame, origin, fields["date"])
    for column in _NUMERIC:
        if column in fields:
            frame = _parse_number(frame, column, origin, fields[column])
        else:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(column))
    if "ticker" in fields:
        frame = frame.with_columns(pl.col("ticker").cast(pl.String).str.strip_chars())
        empty = frame.filter(pl.col("ticker").is_null() | (pl.col("ticker") == ""))
        if empty.height:
            raise InputError(f"{where(origin, empty[ROW][0], fields['ticker'])}: empty ticker")
    else:
        frame = frame.with_columns(pl.lit(ticker).alias("ticker"))

    price_field = "close"
    if "adj_close" in fields:
        price_field = "adj_close"
        factor = pl.col("adj_close") / pl.col("close")
        frame = frame.with_columns(
            (pl.col(c) * factor).alias(c) for c in ("open", "high", "low")
        ).with_columns(pl.col("adj_close").alias("close"))
    fields["close"] = fields[price_field]
    return validate_bars(frame, origin, fields)


def _ticker_from_name(path: Path) -> str:
    return path.stem.upper() if len(path.stem) <= 12 else path.stem


def read_text_table(path: str | Path) -> pl.DataFrame:
    """A small CSV (dividends, cash rates) with every column as text, so that parsing errors can name
    their row; a missing, unreadable or empty file raises :class:`InputError` naming it."""
    origin = str(path)
    file = Path(path).expanduser()
    check_readable_file(file, origin)
    try:
        raw = pl.read_csv(file, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"{origin}: cannot read as csv: {str(exc).strip().splitlines()[0]}") from exc
    if raw.height == 0:
        raise InputError(f"{origin}: no data rows")
    return raw


# the cells of small text tables (dividends, cash rates): one parser each, errors naming the cell
_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T].*)?$")


def parse_day(text: str | None, location: str) -> np.datetime64:
    """The calendar day of a CSV cell (``YYYY-MM-DD``, a time of day after it ignored), or
    :class:`InputError` naming ``location``."""
    match = _DAY.match(text or "")
    try:
        day = np.datetime64(match.group(1), "D") if match else None
    except ValueError:  # e.g. 2020-02-30
        day = None
    if day is None:
        raise InputError(f"{location}: cannot parse {text!r} as a date")
    return day


def parse_number(text: str | None, location: str, what: str) -> float:
    """A finite float from a CSV cell, or :class:`InputError` naming ``location``."""
    if text is None or not text.strip():
        raise InputError(f"{location}: empty {what}")
    try:
        value = float(text.strip())
    except ValueError:
        raise InputError(f"{location}: cannot parse {text.strip()!r} as a number") from None
    if not math.isfinite(value):
        raise InputError(f"{location}: {what} {text.strip()!r} is not a finite number")
    return value


def _read_raw(path: Path, origin: str) -> pl.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if path.stat().st_size == 0:
            raise InputError(f"{origin}: empty file")
        # Everything as text first, so that parsing errors can name their row.
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False)
    except InputError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{origin}: cannot read as {suffix.lstrip('.') or 'csv'}: {first}") from exc


def _first_bad(frame: pl.DataFrame, mask: pl.Expr) -> dict | None:
    bad = frame.filter(mask)
    return bad.row(0, named=True) if bad.height else None


def _parse_dates(frame: pl.DataFrame, origin: str, field: str) -> pl.DataFrame:
    dtype = frame.schema["date"]
    if dtype == pl.Date:
        parsed, times = pl.col("date"), None
    elif isinstance(dtype, pl.Datetime):
        parsed, times = pl.col("date").dt.date(), pl.col("date").dt.time().cast(pl.String)
    else:
        text = pl.col("date").cast(pl.String).str.strip_chars()
        iso = text.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T]|$)", 1)
        sample = frame.select(iso.is_not_null().mean()).item()
        if sample and sample > 0.5:
            parsed = iso.str.to_date("%Y-%m-%d", strict=False)
            times = text.str.slice(10).str.strip_chars()
        else:
            best = max(
                _DATE_FORMATS,
                key=lambda f: frame.select(text.str.to_date(f, strict=False).is_not_null().sum()).item(),
            )
            parsed, times = text.str.to_date(best, strict=False), None
    out = frame.with_columns(
        parsed.alias("_date"), (times if times is not None else pl.lit(None)).alias("_time")
    )
    bad = _first_bad(out, pl.col("_date").is_null())
    if bad is not None:
        value = bad["date"]
        what = (
            "empty date"
            if value is None or str(value).strip() == ""
            else f"cannot parse {str(value)!r} as a date"
        )
        raise InputError(f"{where(origin, bad[ROW], field)}: {what}")
    if times is not None:
        intraday = out.group_by("_date").agg(pl.col("_time").n_unique().alias("n")).filter(pl.col("n") > 1)
        if intraday.height:
            raise InputError(
                f"{origin}: several bars with different times on {intraday['_date'].min()} "
                "(intraday data?); daily bars are required"
            )
    return out.drop("date", "_time").rename({"_date": "date"})


def _parse_number(frame: pl.DataFrame, column: str, origin: str, field: str) -> pl.DataFrame:
    if frame.schema[column].is_numeric():
        return frame.with_columns(pl.col(column).cast(pl.Float64))
    text = pl.col(column).cast(pl.String).str.strip_chars()
    # a comma is a decimal comma ("1469,25") or a thousands separator ("1,469.25"): either way the number
    # is ambiguous to a reader that guesses, so it is refused, naming the cell (never read as 146925)
    with_text = frame.with_columns(text.alias("_text"))
    comma = _first_bad(with_text, pl.col("_text").str.contains(",", literal=True))
    if comma is not None:
        raise InputError(
            f"{where(origin, comma[ROW], field)}: {comma[column]!r} has a comma (a decimal comma or a "
            "thousands separator); write plain numbers with a decimal point, e.g. 1469.25"
        )
    is_null_word = text.is_null() | text.str.to_lowercase().is_in(list(_NULL_WORDS))
    value = pl.when(is_null_word).then(None).otherwise(text).cast(pl.Float64, strict=False)
    out = frame.with_columns(value.alias(f"_{column}"), is_null_word.alias("_nullword"))
    bad = _first_bad(out, pl.col(f"_{column}").is_null() & ~pl.col("_nullword"))
    if bad is not None:
        raise InputError(f"{where(origin, bad[ROW], field)}: cannot parse {bad[column]!r} as a number")
    return out.drop(column, "_nullword").rename({f"_{column}": column})
