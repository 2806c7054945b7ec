"""The interest rate cash earns: a constant or a dated series, and the growth of cash per day.

``--cash-rate 0.03``: 3% a year. ``--cash-rate csv:PATH``: rows ``date,rate``,
``rate`` an annual rate as a fraction (0.052 = 5.2%, e.g. the 3-month T-bill
yield divided by 100), in force from the close of ``date`` until the next row's
date. Rates are treated as effective annual rates: cash held from the close of
day s to the close of the next trading day t grows by ``(1 + r_s) ** (days / 365.25)``
with ``r_s`` the rate in force at s's close (known then: no look-ahead) and
``days`` the calendar days between the two closes, so a constant rate r gives
cash a CAGR of exactly r on the engine's 365.25-day CAGR. Weekends and holidays
earn interest (calendar days).

A series must have at least one row per calendar month (two rows more than
``MAX_GAP_DAYS`` apart are a gap, an error), start on or before the first day it
is used, and hold rates in (-100%, 100%]; beyond its last row the last rate is
carried forward and the basis says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from feeds.errors import InputError
from feeds.files import parse_day, parse_number, read_text_table
from feeds.schema import where

MAX_GAP_DAYS = 31
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class CashRate:
    """A constant annual rate, or a dated series of annual rates read from ``source``."""

    constant: float = 0.0
    source: str | None = None  # "csv:PATH" for a series
    dates: np.ndarray | None = None  # datetime64[D], increasing
    rates: np.ndarray | None = None  # annual fractions, one per date

    @classmethod
    def parse(cls, spec: float | str) -> CashRate:
        """From ``--cash-rate``: a number (annual fraction) or ``csv:PATH``."""
        if isinstance(spec, str) and spec.strip().startswith("csv:"):
            path = spec.strip()[4:]
            dates, rates = read_rate_file(path)
            return cls(source=f"csv:{path}", dates=dates, rates=rates)
        value = parse_number(str(spec), "--cash-rate", "rate")
        check_rate(value, "--cash-rate")
        return cls(constant=value)

    @property
    def is_zero(self) -> bool:
        return self.source is None and self.constant == 0.0

    def rate_at(self, dates: np.ndarray) -> np.ndarray:
        """The annual rate in force at each date's close; raises if the series starts later."""
        if self.source is None:
            return np.full(len(dates), self.constant)
        assert self.dates is not None and self.rates is not None
        if dates[0] < self.dates[0]:
            raise InputError(
                f"{where(self.source[4:], 1, 'date')}: the cash-rate series starts {self.dates[0]}, "
                f"after the first day it is needed ({dates[0]})"
            )
        return self.rates[np.searchsorted(self.dates, dates, side="right") - 1]

    def growth(self, dates: np.ndarray) -> np.ndarray:
        """Value of 1.0 held in cash from the close of ``dates[0]``, at each close (n,)."""
        days = np.diff(dates).astype(np.int64).astype(np.float64)
        logs = np.log1p(self.rate_at(dates[:-1])) * days / DAYS_PER_YEAR
        return np.exp(np.concatenate([[0.0], np.cumsum(logs)]))

    def carried_from(self, dates: np.ndarray) -> np.datetime64 | None:
        """The first of ``dates`` after the series' last row (its last rate carried forward), if any."""
        if self.dates is None or dates[-1] <= self.dates[-1]:
            return None
        return dates[np.searchsorted(dates, self.dates[-1], side="right")]

    def describe(self) -> str:
        if self.source is None:
            return f"{self.constant * 100:g}% a year" + (" (default)" if self.constant == 0 else "")
        assert self.dates is not None and self.rates is not None
        return f"{self.source} ({self.dates[0]}..{self.dates[-1]}, {len(self.dates)} rows)"


def check_rate(value: float, location: str) -> None:
    """Annual fractions in (-1, 1]; a percentage like 5.2 is caught here."""
    if value > 1.0:
        raise InputError(
            f"{location}: rate {value:g} is above 100% a year; rates are annual fractions "
            "(0.052 = 5.2%), divide percentages by 100"
        )
    if value <= -1.0:
        raise InputError(f"{location}: rate {value:g} is -100% a year or below")


def read_rate_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Dates and annual rates of a ``date,rate`` file; bad input names file, row and field."""
    origin = str(path)
    raw = read_text_table(path)
    names = {c.strip().lower(): c for c in raw.columns}
    date_col, rate_col = names.get("date"), names.get("rate")
    if date_col is None or rate_col is None:
        raise InputError(f"{origin}: expected columns date,rate (found: {', '.join(raw.columns) or 'none'})")
    dates, rates = [], []
    for i, (day, text) in enumerate(zip(raw[date_col].to_list(), raw[rate_col].to_list(), strict=True), 1):
        date = parse_day(day, where(origin, i, date_col))
        if dates and date <= dates[-1]:
            raise InputError(
                f"{where(origin, i, date_col)}: {date} is not after the previous row's {dates[-1]}"
            )
        if dates and (date - dates[-1]).astype(np.int64) > MAX_GAP_DAYS:
            raise InputError(
                f"{where(origin, i, date_col)}: gap of {(date - dates[-1]).astype(np.int64)} days after "
                f"{dates[-1]} (at most {MAX_GAP_DAYS}: give a rate at least once a month)"
            )
        value = parse_number(text, where(origin, i, rate_col), "rate")
        check_rate(value, where(origin, i, rate_col))
        dates.append(date)
        rates.append(value)
    return np.array(dates, dtype="datetime64[D]"), np.array(rates)
