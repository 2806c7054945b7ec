"""The exchange's own calendar (NYSE, ``XNYS`` from the exchange-calendars package).

What it decides: which days are sessions, and when each session closes (16:00
New York, 13:00 on early-close days: the day after Thanksgiving, Christmas Eve,
July 3, and the library's historical special closes). "The close" of a trading
day everywhere in the project is :func:`session_closes`.

Range (a documented fallback, not a guess): the calendar is built once per
process from :data:`CALENDAR_START` (1970-01-01) to the library's default end (a
year after today). exchange-calendars 4.x drops the NYSE's regular holidays
before 1970 (its holiday rules run through pandas' ``AbstractHolidayCalendar``,
whose default range starts in 1970: 1928-07-04 comes out as a session), so
before 1970, and after the calendar's last session, a day is a session when it
is a weekday and it closes at 16:00 New York, as the project assumed before.
Checked against the ^GSPC history 1970-2023 in ``../shared/data``: the same
sessions, none missing, none extra (``tests/feeds/test_exchange_calendar.py``).

Cost: importing and building the calendar takes about 0.75 s (pandas holiday
rules), so its sessions and closes are cached on disk (:func:`session_table`);
a process then loads them in milliseconds, lazily, on first use.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from feeds.errors import DataQuirkWarning

CALENDAR_NAME = "XNYS"
CALENDAR_START = dt.date(1970, 1, 1)
REGULAR_CLOSE = dt.time(16, 0)  # New York, outside the calendar's range
EXCHANGE_TIMEZONE = "America/New_York"
REBUILD_HORIZON_DAYS = 180  # a cached calendar must reach this far past today (daily updates)


@dataclass(frozen=True)
class SessionTable:
    """Sessions of the calendar's range and their closes, as numpy arrays."""

    sessions: np.ndarray  # datetime64[D], increasing
    closes: np.ndarray  # datetime64[us], UTC (naive), one per session
    first: np.datetime64  # first session (datetime64[D])
    last: np.datetime64  # last session


@functools.cache
def session_table() -> SessionTable:
    """The XNYS sessions from :data:`CALENDAR_START`, once per process (and cached on disk).

    Building the calendar costs about 0.75 s (pandas holiday rules); the arrays are
    kept in ``<cache dir>/calendars/`` (``$STOCKRNN_CACHE_DIR`` or the platform's user
    cache dir), keyed by the library's version, and rebuilt when the stored calendar
    ends less than :data:`REBUILD_HORIZON_DAYS` after today. Loading is a plain
    ``.npz`` read (no pickles); an unreadable or unwritable cache means building in memory.
    """
    path = _cache_path()
    horizon = np.datetime64(dt.date.today(), "D") + REBUILD_HORIZON_DAYS
    if path is not None:
        try:
            with np.load(path, allow_pickle=False) as stored:
                sessions = stored["sessions"].astype("datetime64[D]")
                closes = stored["closes"].astype("datetime64[us]")
            if len(sessions) == len(closes) > 0 and sessions[-1] >= horizon:
                return _table(sessions, closes)
        except (OSError, ValueError, KeyError):
            pass  # absent or damaged: build it
    sessions, closes = _build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp.npz")
            np.savez(tmp, sessions=sessions, closes=closes)
            tmp.replace(path)  # atomic: a concurrent reader sees the old file or the new one
        except OSError:
            pass
    return _table(sessions, closes)


def _build() -> tuple[np.ndarray, np.ndarray]:
    import exchange_calendars as xcals

    calendar = xcals.get_calendar(CALENDAR_NAME, start=CALENDAR_START.isoformat())
    schedule = calendar.schedule
    sessions = schedule.index.values.astype("datetime64[D]")
    closes = schedule["close"].dt.tz_convert("UTC").dt.tz_localize(None).values.astype("datetime64[us]")
    return sessions, closes


def _table(sessions: np.ndarray, closes: np.ndarray) -> SessionTable:
    for array in (sessions, closes):
        array.flags.writeable = False
    return SessionTable(sessions, closes, sessions[0], sessions[-1])


def _cache_path() -> Path | None:
    root = os.environ.get("STOCKRNN_CACHE_DIR", "").strip()
    if not root:
        try:
            import platformdirs

            root = platformdirs.user_cache_dir("stockrnn")
        except ImportError:  # pragma: no cover - a dependency
            return None
    name = f"{CALENDAR_NAME}-{library_version()}-from-{CALENDAR_START}.npz"
    return Path(root).expanduser() / "calendars" / name


def library_version() -> str:
    try:
        return metadata.version("exchange-calendars")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        return "unknown"


def describe() -> str:
    """One line for reports and ``--json`` (``calendar``): which calendar, from when, and the fallback.

    Independent of today's date (the calendar's end moves with it), so stored runs
    and their JSON stay comparable.
    """
    table = session_table()
    return (
        f"{CALENDAR_NAME} (exchange-calendars {library_version()}) from {table.first}, early closes "
        "honoured; earlier days and days past the calendar's end: weekdays closing 16:00 New York"
    )


def _in_range(days: np.ndarray, table: SessionTable) -> np.ndarray:
    return (days >= table.first) & (days <= table.last)


def is_session(dates: np.ndarray) -> np.ndarray:
    """Bool per date (``datetime64[D]``): an exchange session (a weekday outside the calendar's range)."""
    days = np.asarray(dates, dtype="datetime64[D]")
    table = session_table()
    pos = np.clip(np.searchsorted(table.sessions, days), 0, len(table.sessions) - 1)
    listed = table.sessions[pos] == days
    return np.where(_in_range(days, table), listed, np.is_busday(days))


def session_closes(dates: np.ndarray) -> np.ndarray:
    """Each day's close as UTC ``datetime64[us]``: the session's close, 13:00 New York on early closes.

    A day that is not a session in the calendar's range (a data row on a holiday)
    and any day outside the range closes at 16:00 New York.
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    table = session_table()
    pos = np.clip(np.searchsorted(table.sessions, days), 0, len(table.sessions) - 1)
    listed = (table.sessions[pos] == days) & _in_range(days, table)
    out = np.empty(len(days), dtype="datetime64[us]")
    out[listed] = table.closes[pos[listed]]
    out[~listed] = regular_closes(days[~listed])
    return out


def regular_closes(dates: np.ndarray) -> np.ndarray:
    """16:00 New York of each day as UTC ``datetime64[us]`` (DST from zoneinfo)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(EXCHANGE_TIMEZONE)
    days = np.asarray(dates, dtype="datetime64[D]")
    out = np.empty(len(days), dtype="datetime64[us]")
    for i, day in enumerate(days.astype(dt.date)):
        local = dt.datetime.combine(day, REGULAR_CLOSE, tzinfo=zone)
        out[i] = np.datetime64(local.astimezone(dt.UTC).replace(tzinfo=None), "us")
    return out


def count_sessions(lo: np.datetime64, hi: np.datetime64) -> int:
    """Sessions in ``[lo, hi)`` (``datetime64[D]``); weekdays for the part outside the calendar's range."""
    lo, hi = np.datetime64(lo, "D"), np.datetime64(hi, "D")
    if hi <= lo:
        return 0
    table = session_table()
    inside_lo, inside_hi = max(lo, table.first), min(hi, table.last + 1)
    count = 0
    if inside_lo < inside_hi:
        count += int(np.searchsorted(table.sessions, inside_hi) - np.searchsorted(table.sessions, inside_lo))
    if lo < table.first:
        count += int(np.busday_count(lo, min(hi, table.first)))
    if hi > table.last + 1:
        count += int(np.busday_count(max(lo, table.last + 1), hi))
    return count


def calendar_mismatches(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sessions missing between the first and last date, dates that are not sessions).

    Only the calendar's range is judged (outside it there is nothing to compare with).
    """
    days = np.unique(np.asarray(dates, dtype="datetime64[D]"))
    table = session_table()
    if days.size == 0:
        return days, days
    judged = days[_in_range(days, table)]
    extra = judged[~is_session(judged)]
    lo, hi = max(days[0], table.first), min(days[-1], table.last)
    expected = table.sessions[(table.sessions >= lo) & (table.sessions <= hi)]
    missing = np.setdiff1d(expected, days, assume_unique=True)
    return missing, extra


def warn_calendar_mismatches(
    dates: np.ndarray, closes: np.ndarray, tickers: tuple[str, ...], origin: str
) -> None:
    """One :class:`DataQuirkWarning` per price source whose rows disagree with the exchange calendar.

    ``closes``: (n_days, n_tickers), NaN where a ticker has no bar. Each ticker is
    judged between its own first and last row (a listing or delisting is not a gap).
    A real file can miss a session or carry a row on a holiday; the data are kept
    as given (warn, do not fail).
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    problems = []
    for j, ticker in enumerate(tickers):
        own = days[~np.isnan(closes[:, j])]
        missing, extra = calendar_mismatches(own)
        if missing.size or extra.size:
            problems.append((ticker, missing, extra))
    if not problems:
        return
    parts = []
    for ticker, missing, extra in problems[:3]:
        bits = []
        if missing.size:
            bits.append(f"misses {missing.size} session(s) (e.g. {', '.join(map(str, missing[:3]))})")
        if extra.size:
            bits.append(f"has {extra.size} row(s) on non-sessions (e.g. {', '.join(map(str, extra[:3]))})")
        parts.append(f"{ticker} {' and '.join(bits)}")
    more = f"; {len(problems) - 3} more ticker(s)" if len(problems) > 3 else ""
    warnings.warn(
        DataQuirkWarning(
            f"{origin}: rows disagree with the {CALENDAR_NAME} calendar: {'; '.join(parts)}{more}; "
            "kept as given"
        ),
        stacklevel=2,
    )
