"""Point-in-time universes: which tickers were members of an index, or of a user's list, on a given day.

``--universe`` specs (:func:`parse_universe`):

- ``sp500`` (also ``sp400``, ``sp600``, ``sp1500``): S&P index membership from the
  pitindex package, which ships it offline (S&P 500 from 2004-12-30; the data
  end on the package's build date, later days get the last known membership).
  Membership "on day d" is the constituents list as of d's end of day: a change
  effective on d counts on d (S&P changes take effect before the open).
- ``csv:PATH``: rows ``ticker,start,end`` (ISO dates, both inclusive; an empty
  ``end`` means still a member). A ticker may have several rows (it left and
  came back). Membership starts with the earliest ``start`` of the file.

Ticker spelling: tickers are compared in Yahoo's spelling, upper case with ``.``
and ``/`` turned into ``-`` (pitindex's ``BRK.B`` is Yahoo's ``BRK-B``), on both
sides. pitindex lists the ticker a company had at the time; a price file from
Yahoo carries today's ticker back through history, so a renamed company shows up
as a missing member (its old ticker) and an excluded non-member (its new ticker)
until the rename. The coverage report lists both, so such cases are visible.

The engine turns a universe into a mask with :func:`universe_mask` (how it is
applied: ``engine.pipeline.universe_mask``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from feeds.errors import InputError
from feeds.schema import where

PITINDEX_INDICES = ("sp500", "sp400", "sp600", "sp1500")
INDEX_NAMES = {"sp500": "S&P 500", "sp400": "S&P 400", "sp600": "S&P 600", "sp1500": "S&P 1500"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def normalize_ticker(ticker: str) -> str:
    """Yahoo's spelling: ``brk.b`` / ``BRK/B`` -> ``BRK-B``."""
    return ticker.strip().upper().replace(".", "-").replace("/", "-")


@dataclass(frozen=True)
class Universe:
    """A membership history: ``members_at(day)`` for days from ``start`` on."""

    spec: str  # what --universe said
    description: str  # one line for notes and --json
    start: dt.date  # first day membership is known
    end: dt.date | None  # last day the data describe (None: open); later days get the last known list
    intervals: tuple[tuple[str, dt.date, dt.date | None], ...] = ()  # csv: (ticker, start, end)
    index: str | None = None  # pitindex: the index key
    _cache: dict[dt.date, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def members_at(self, day: dt.date) -> frozenset[str]:
        """Members (normalized tickers) at the close of ``day``; ``day`` must not precede ``start``."""
        if day < self.start:
            raise ValueError(f"{day} is before the membership data of {self.spec} start ({self.start})")
        found = self._cache.get(day)
        if found is None:
            found = self._pitindex_members(day) if self.index else self._listed_members(day)
            self._cache[day] = found
        return found

    def _listed_members(self, day: dt.date) -> frozenset[str]:
        return frozenset(t for t, lo, hi in self.intervals if lo <= day and (hi is None or day <= hi))

    def _pitindex_members(self, day: dt.date) -> frozenset[str]:
        import pitindex

        assert self.index is not None
        if self.end is not None:
            day = min(day, self.end)  # pitindex refuses future days; past its data the list is unchanged
        with warnings.catch_warnings():
            # the data's age is reported by us (coverage end), not as a nag on every run
            warnings.simplefilter("ignore", pitindex.StaleDataWarning)
            frame = pitindex.get_constituents(day, index=self.index)
        return frozenset(normalize_ticker(t) for t in frame["ticker"].tolist())

    def identity(self) -> dict[str, Any]:
        """JSON-ready: spec, description and the membership data's range."""
        return {
            "spec": self.spec,
            "description": self.description,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
        }


def parse_universe(spec: str) -> Universe:
    """A :class:`Universe` from a ``--universe`` string; bad input raises :class:`InputError`."""
    text = spec.strip()
    if text.lower() in PITINDEX_INDICES:
        return _pitindex_universe(text.lower())
    scheme, sep, target = text.partition(":")
    if sep and scheme.lower() == "csv" and target:
        return read_universe_file(Path(target).expanduser(), spec=text)
    raise InputError(f"--universe {spec!r}: expected {', '.join(PITINDEX_INDICES)} or csv:PATH")


def _pitindex_universe(key: str) -> Universe:
    with warnings.catch_warnings():
        try:
            import pitindex
        except ImportError as exc:  # pragma: no cover - a dependency
            raise InputError(f"--universe {key}: the pitindex package is not installed") from exc
        warnings.simplefilter("ignore", pitindex.StaleDataWarning)
        index = pitindex.PitIndex(key)
        start, end = index.coverage_start, index.coverage_end
    version = metadata.version("pitindex")
    return Universe(
        spec=key,
        description=f"{INDEX_NAMES[key]} members on each day (pitindex {version}, {start}..{end})",
        start=start,
        end=end,
        index=key,
    )


def read_universe_file(path: Path, *, spec: str | None = None) -> Universe:
    """A universe from a ``ticker,start,end`` CSV; the first bad row raises :class:`InputError`."""
    origin = str(path)
    if not path.exists():
        raise InputError(f"{origin}: universe file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # a BOM from spreadsheets is fine
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{origin}: cannot read as CSV: {exc}") from exc
    if not rows:
        raise InputError(f"{origin}: empty universe file (expected a header ticker,start,end)")
    header = [h.strip().lower() for h in rows[0]]
    columns = {}
    for name in ("ticker", "start", "end"):
        if name not in header:
            raise InputError(
                f"{origin}: no column '{name}' (expected ticker,start,end; found {','.join(rows[0])})"
            )
        columns[name] = header.index(name)
    intervals = []
    for number, row in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: row[i].strip() if i < len(row) else "" for name, i in columns.items()}
        if not cells["ticker"]:
            raise InputError(f"{where(origin, number, 'ticker')}: empty ticker")
        start = _date(cells["start"], origin, number, "start", required=True)
        end = _date(cells["end"], origin, number, "end", required=False)
        assert start is not None
        if end is not None and end < start:
            raise InputError(f"{where(origin, number, 'end')}: {end} is before start {start}")
        intervals.append((normalize_ticker(cells["ticker"]), start, end))
    if not intervals:
        raise InputError(f"{origin}: no membership rows after the header")
    first = min(lo for _, lo, _ in intervals)
    tickers = len({t for t, _, _ in intervals})
    return Universe(
        spec=spec or f"csv:{origin}",
        description=f"{tickers} tickers listed in {path.name} with their membership dates (from {first})",
        start=first,
        end=None,
        intervals=tuple(intervals),
    )


def _date(text: str, origin: str, row: int, name: str, *, required: bool) -> dt.date | None:
    if not text:
        if required:
            raise InputError(f"{where(origin, row, name)}: empty date (expected YYYY-MM-DD)")
        return None
    try:
        if not ISO_DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{where(origin, row, name)}: {text!r} is not a date (expected YYYY-MM-DD)"
        ) from None


def universe_mask(
    universe: Universe,
    dates: np.ndarray,
    tickers: tuple[str, ...],
    close: np.ndarray,
    decision_rows: np.ndarray,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """(mask (n_days, n_tickers), coverage per decision close).

    At a decision row t the mask holds the tickers that were members at the close
    of ``dates[t]`` and have a price there; later rows carry it until the next
    decision row (what was bought there may be held); rows before the first
    decision row are all False. A decision row before the universe's ``start``
    raises :class:`InputError` (membership is unknown there: refuse, never guess).
    Coverage, per decision row: ``decision_close``, ``members`` (how many),
    ``with_prices``, ``missing`` (members without a price there: not in the data,
    or not trading that day) and ``excluded`` (tickers with a price that were not
    members).
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    rows = np.asarray(decision_rows, dtype=np.int64)
    early = [int(t) for t in rows if dates[t].astype(dt.date) < universe.start]
    if early:
        first = dates[early[0]]
        raise InputError(
            f"--universe {universe.spec}: membership data start {universe.start}, but {first} is a "
            f"decision close of this run (every year end of the data is one); pass --start "
            f"{universe.start} or later"
        )
    normalized = [normalize_ticker(t) for t in tickers]
    mask = np.zeros(close.shape, dtype=bool)
    coverage = []
    for i, t in enumerate(rows):
        day = dates[t].astype(dt.date)
        members = universe.members_at(day)
        member = np.array([n in members for n in normalized], dtype=bool)
        priced = ~np.isnan(close[t])
        row = member & priced
        stop = int(rows[i + 1]) if i + 1 < len(rows) else len(dates)
        mask[t:stop] = row
        have = {normalized[j] for j in np.flatnonzero(row)}
        coverage.append(
            {
                "decision_close": str(dates[t]),
                "members": len(members),
                "with_prices": int(row.sum()),
                "missing": sorted(members - have),
                "excluded": sorted(normalized[j] for j in np.flatnonzero(priced & ~member)),
            }
        )
    mask.flags.writeable = False
    return mask, coverage
