"""News headlines: one schema, file layouts, cleaning, and the as-of alignment to trading days.

Schema (a polars frame, ``HEADLINE_SCHEMA``): ``published_at`` (UTC timestamp;
for a date-only row, midnight UTC of its date), ``date_only`` (the source gave a
date without a time of day), ``headline`` (cleaned text), ``source``, ``ticker``
(optional). Files:

- one headline per row with a date: ``Date,News`` (the Reddit world-news set);
- the wide per-day layout: ``Date,Label,Top1..Top25`` (one row per day);
- rows with timestamps in common formats and zones: ISO 8601 (``2020-07-17T19:51:00Z``),
  RFC 822 (``Mon, 07 Mar 2022 08:15:53 GMT``), ``7:51 PM ET Fri, 17 July 2020``;
  a time without a zone is read as New York time.

Column names are found case-insensitively, ignoring spaces, ``_`` and ``-``
(``TIME_NAMES``: ``date``, ``published``, ``pubDate``, ``publishedAt``, ``time``,
``timestamp``, ``datetime``, ...; ``TEXT_NAMES``: ``headline(s)``, ``news``,
``title``, ``text``, ...; ``source``; ``ticker``) or given explicitly
(``--headline-column``, ``--time-column``; ``--timezone`` for times without a zone).
Cleaning: HTML entities, Python bytes-literal
wrappers (``b'...'``, ``b"..."``), whitespace and line breaks inside a cell; exact
duplicates and empty rows are dropped, rows without a usable date are rejected;
all of it is counted in a :class:`HeadlineReport`.

Alignment (:func:`assign_trading_days`, written once): a headline belongs to the
first trading day whose decision time (its exchange close: 16:00 America/New_York,
13:00 on the NYSE's early-close days; see ``feeds.exchange_calendar``) is at or
after its publication; weekend and holiday headlines roll forward; DST is handled
by the calendar (zoneinfo). A date-only headline may have appeared
after that day's close, so by default it is used from the NEXT trading day's
decision (``date_only="next"``); ``date_only="same"`` treats it as known at that
day's close.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import re
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from feeds.calendar import EXCHANGE_TZ
from feeds.errors import InputError
from feeds.exchange_calendar import session_closes

HEADLINE_SCHEMA = {
    "published_at": pl.Datetime("us", "UTC"),
    "date_only": pl.Boolean,
    "headline": pl.String,
    "source": pl.String,
    "ticker": pl.String,
}
DateOnly = Literal["next", "same"]
UTC = dt.UTC
# Auto-detected column names (compared case-insensitively, spaces and "_"/"-" ignored), in order of
# preference: plain CSV exports, RSS (pubDate), news APIs (publishedAt, webPublicationDate, ...).
TIME_NAMES = (
    "published_at", "publishedat", "published", "pubdate", "publicationdate", "webpublicationdate",
    "datetime", "timestamp", "time", "date", "created_at", "createdat", "created", "seendate",
)  # fmt: skip
# not "description"/"summary": a file with an unrecognized headline column must not silently embed those
TEXT_NAMES = ("headline", "headlines", "news", "title", "titles", "text", "webtitle", "heading")
WIDE = re.compile(r"^top\d+$", re.IGNORECASE)
ZONES = {
    "ET": EXCHANGE_TZ, "EST": EXCHANGE_TZ, "EDT": EXCHANGE_TZ, "NY": EXCHANGE_TZ,
    "GMT": UTC, "UTC": UTC, "Z": UTC,
}  # fmt: skip
DATE_ONLY = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})\s*$")


@dataclass
class HeadlineReport:
    """What reading a headline source kept and rejected, and why."""

    source: str
    rows: int = 0
    kept: int = 0
    duplicates: int = 0
    empty: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # first rejected rows, "row N: reason"
    unwrapped_bytes: int = 0

    def reject(self, row: int, reason: str) -> None:
        self.rejected[reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"row {row}: {reason}")

    def lines(self) -> list[str]:
        out = [
            f"{self.source}: {self.rows} rows, {self.kept} headlines kept; "
            f"{self.duplicates} exact duplicates and {self.empty} empty rows dropped; "
            f"{self.unwrapped_bytes} bytes-literal wrappers removed"
        ]
        if self.rejected:
            reasons = ", ".join(f"{n} {r}" for r, n in self.rejected.most_common())
            out.append(
                f"rejected {sum(self.rejected.values())} rows: {reasons} (e.g. {'; '.join(self.examples)})"
            )
        return out


# --- cleaning ---------------------------------------------------------------------------
_BYTES = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)
_SPACE = re.compile(r"\s+")


def clean_text(raw: str | None) -> tuple[str, bool]:
    """Cleaned headline and whether a bytes-literal wrapper was removed.

    ``b'It\\'s'`` -> ``It's``; escapes inside the literal (``\\xe2\\x80\\x99``) are
    decoded as UTF-8. HTML entities unescaped, whitespace collapsed.
    """
    if raw is None:
        return "", False
    text = raw.strip()
    unwrapped = False
    match = _BYTES.match(text)
    if match:
        unwrapped = True
        try:
            text = ast.literal_eval(text).decode("utf-8", errors="replace")
        except (ValueError, SyntaxError):
            text = match.group(2)
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip(), unwrapped


# --- timestamps -------------------------------------------------------------------------
_ET_STYLE = re.compile(
    r"^\s*(\d{1,2}):(\d{2})\s*([AP]M)\s+(ET|EST|EDT)\s+\w{3},?\s+(\d{1,2})\s+(\w+)\s+(\d{4})\s*$",
    re.IGNORECASE,
)


def parse_timestamp(value: str, naive_tz: dt.tzinfo = EXCHANGE_TZ) -> tuple[dt.datetime, bool]:
    """(UTC datetime, date_only) from one timestamp string; raises ValueError when unparseable.

    A date alone (``2016-07-01``, ``7/1/2016``) gives midnight UTC of that date and
    ``date_only=True``; a time without a zone is read in ``naive_tz``.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    if DATE_ONLY.match(text):
        if "/" in text:
            month, day, year = (int(x) for x in text.split("/"))
            return dt.datetime(year, month, day, tzinfo=UTC), True
        return dt.datetime.fromisoformat(text).replace(tzinfo=UTC), True
    match = _ET_STYLE.match(text)
    if match:
        hour, minute, half, _, day, month, year = match.groups()
        local = dt.datetime.strptime(
            f"{day} {month[:3]} {year} {hour}:{minute} {half.upper()}", "%d %b %Y %I:%M %p"
        )
        return local.replace(tzinfo=EXCHANGE_TZ).astimezone(UTC), False
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        stamp = None
    if stamp is None:
        try:
            stamp = parsedate_to_datetime(text)  # RFC 822 / 2822
        except (TypeError, ValueError, IndexError):
            stamp = None
    if stamp is None:
        from dateutil import parser as dateutil_parser  # a pandas dependency: the catch-all

        try:
            stamp = dateutil_parser.parse(text, tzinfos=ZONES)  # type: ignore[arg-type]
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"unparseable date {value!r}") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=naive_tz)
    return stamp.astimezone(UTC), False


def parse_zone(name: str) -> dt.tzinfo:
    """The zone of ``--timezone NAME`` (IANA, e.g. ``Europe/London``, or UTC/ET); InputError if unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.strip().upper() in ZONES:
        return ZONES[name.strip().upper()]
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--timezone {name!r}: not a known time zone (e.g. America/New_York, UTC)") from None


# --- files ------------------------------------------------------------------------------
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.lower())


def _find(
    columns: list[str], wanted: str | None, names: tuple[str, ...], what: str, path: Path, flag: str
) -> str:
    normalized = {_norm(c): c for c in reversed(columns)}  # the first of equal names wins
    if wanted:
        if wanted in columns:
            return wanted
        if _norm(wanted) in normalized:
            return normalized[_norm(wanted)]
        raise InputError(f"{path}: {flag} {wanted!r}: no such column (columns: {', '.join(columns)})")
    for name in names:
        if _norm(name) in normalized:
            return normalized[_norm(name)]
    raise InputError(
        f"{path}: no {what} column found among {', '.join(columns)}; name it with {flag} COLUMN "
        f"(recognized names: {', '.join(names)})"
    )


def read_headline_file(
    path: str | Path,
    *,
    time_column: str | None = None,
    text_column: str | None = None,
    source: str | None = None,
    naive_tz: dt.tzinfo = EXCHANGE_TZ,
) -> tuple[pl.DataFrame, HeadlineReport]:
    """Read, clean and validate one CSV or Parquet file of headlines (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: headline file not found")
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            f"{path}: cannot read as {'Parquet' if path.suffix == '.parquet' else 'CSV'}: {exc}"
        ) from exc
    columns = frame.columns
    wide = [c for c in columns if WIDE.match(c.strip())]
    time_col = _find(columns, time_column, TIME_NAMES, "date/time", path, "--time-column")
    if wide and not text_column:
        long = frame.select(
            pl.col(time_col).cast(pl.String).alias("_time"),
            pl.concat_list([pl.col(c).cast(pl.String) for c in wide]).alias("_text"),
        ).with_row_index("_row", offset=2)
        long = long.explode("_text")
    else:
        text_col = _find(columns, text_column, TEXT_NAMES, "headline", path, "--headline-column")
        long = frame.select(
            pl.col(time_col).cast(pl.String).alias("_time"), pl.col(text_col).cast(pl.String).alias("_text")
        ).with_row_index("_row", offset=2)
    lower = {c.lower(): c for c in columns}
    sources = frame[lower["source"]].cast(pl.String).to_list() if "source" in lower and not wide else None
    tickers = frame[lower["ticker"]].cast(pl.String).to_list() if "ticker" in lower and not wide else None
    report = HeadlineReport(str(path), rows=long.height)
    return _build(long, report, source or path.stem, sources, tickers, naive_tz), report


def headline_rows(
    rows: list[dict[str, Any]], origin: str, *, naive_tz: dt.tzinfo = EXCHANGE_TZ
) -> tuple[pl.DataFrame, HeadlineReport]:
    """Headlines from dicts: ``published`` (str or datetime), ``headline``, ``source``, ``ticker``."""
    texts = [r.get("headline") for r in rows]
    times = [r.get("published") for r in rows]
    long = pl.DataFrame(
        {"_time": [t.isoformat() if isinstance(t, dt.datetime) else t for t in times], "_text": texts},
        schema={"_time": pl.String, "_text": pl.String},
    ).with_row_index("_row", offset=1)
    report = HeadlineReport(origin, rows=len(rows))
    sources = [r.get("source") or origin for r in rows]
    tickers = [r.get("ticker") for r in rows]
    return _build(long, report, origin, sources, tickers, naive_tz), report


def _build(
    long: pl.DataFrame,
    report: HeadlineReport,
    default_source: str,
    sources: list[str | None] | None,
    tickers: list[str | None] | None,
    naive_tz: dt.tzinfo,
) -> pl.DataFrame:
    parsed: dict[str, tuple[dt.datetime, bool] | str] = {}
    for value in long["_time"].unique().to_list():  # a few thousand distinct dates in 73k rows
        if value is None:
            continue
        try:
            parsed[value] = parse_timestamp(value, naive_tz)
        except ValueError as exc:
            parsed[value] = str(exc)
    keep_time, keep_flag, keep_text, keep_source, keep_ticker = [], [], [], [], []
    seen: set[tuple[dt.datetime, str]] = set()
    for position, (row, value, raw) in enumerate(long.iter_rows()):  # position: row of sources/tickers
        text, unwrapped = clean_text(raw)
        report.unwrapped_bytes += unwrapped
        if not text:
            report.empty += 1
            continue
        stamp = parsed.get(value) if value is not None else None
        if stamp is None:
            report.reject(row, "no date")
            continue
        if isinstance(stamp, str):
            report.reject(row, stamp)
            continue
        key = (stamp[0], text)
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        keep_time.append(stamp[0])
        keep_flag.append(stamp[1])
        keep_text.append(text)
        keep_source.append((sources[position] if sources else None) or default_source)
        keep_ticker.append(tickers[position] if tickers else None)
    report.kept = len(keep_text)
    frame = pl.DataFrame(
        {
            "published_at": keep_time,
            "date_only": keep_flag,
            "headline": keep_text,
            "source": keep_source,
            "ticker": keep_ticker,
        },
        schema=HEADLINE_SCHEMA,
    )
    return frame.sort("published_at", maintain_order=True)


# --- alignment --------------------------------------------------------------------------
def decision_instants(dates: np.ndarray) -> np.ndarray:
    """Each trading day's decision time, its exchange close, as UTC ``datetime64[us]``.

    16:00 New York, 13:00 on early-close days (see :mod:`feeds.exchange_calendar`).
    """
    return session_closes(dates)


def assign_trading_days(
    published_at: np.ndarray, date_only: np.ndarray, dates: np.ndarray, *, date_only_rule: DateOnly = "next"
) -> np.ndarray:
    """Row index into ``dates`` of the trading day each headline belongs to; -1 when after the last day.

    ``published_at``: UTC ``datetime64``; ``date_only``: bool per headline (its
    ``published_at`` is midnight UTC of the date); ``dates``: trading days
    (``datetime64[D]``, increasing). See the module docstring for the rules.
    """
    published = np.asarray(published_at, dtype="datetime64[us]")
    dates = np.asarray(dates, dtype="datetime64[D]")
    row = np.searchsorted(decision_instants(dates), published, side="left")
    if np.any(date_only):
        day = published[date_only].astype("datetime64[D]")
        # "next": the first trading day strictly after the date; "same": on or after it
        side = "right" if date_only_rule == "next" else "left"
        row[date_only] = np.searchsorted(dates, day, side=side)
    return np.where(row < len(dates), row, -1)
