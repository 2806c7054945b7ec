"""Dividends: the bundled S&P 500 series, dividend files, and total-return closes.

Timing conventions. ``dates`` are trading days (``datetime64[D]``), ``close`` the
closes on them. A dividend "accrued in row t" belongs to the interval from the
close of row t-1 to the close of row t; row 0 accrues nothing (it is the start).
The total-return close follows the usual index rule,
``tr[t] = tr[t-1] * (close[t] + d[t]) / close[t-1]``, i.e. the dividend is
reinvested at the close it accrues in, without costs.

Two kinds of dividend data:

- **Monthly annual rates** (Robert Shiller's S&P 500 series, bundled as
  ``feeds/data/sp500_dividends_shiller.csv``): ``dividend`` is the trailing
  twelve-month dividend per index unit in index points, an annual rate. Each
  calendar day accrues ``dividend(month of that day) / 365.25`` points, so an
  interval over a weekend accrues three days' worth and a year accrues the year's
  rate whatever its number of sessions (calendar days, not an assumed 252
  sessions, because dividends are paid on calendar time and NYSE years have
  250-253 sessions). Beyond the last month the series covers, each day accrues
  the last known *yield* (dividend / average price of that month) times the
  previous close: the basis says so (``carried_from``).
- **Ex-date amounts** (``--dividends csv:PATH``, rows ``date,dividend[,ticker]``):
  ``dividend`` is the cash amount per share (or index unit) in the price's
  currency, with ``date`` its ex-date; it accrues at the close of the first trading
  day on or after that date. Ex-dates on or before the first day of data, or after
  its last day, accrue nothing.

Written here rather than taken from a library: the accrual is a few array lines,
and no maintained package ships point-in-time S&P 500 dividends offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from feeds.errors import InputError
from feeds.files import parse_day, parse_number, read_text_table
from feeds.schema import where

SHILLER_PATH = Path(__file__).parent / "data" / "sp500_dividends_shiller.csv"
# Symbols of the S&P 500 *price* index, the series Shiller's dividends belong to.
SHILLER_TICKERS = ("^GSPC", "^SPX")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class MonthlyDividends:
    """Annual dividend rates per calendar month (Shiller's layout)."""

    months: np.ndarray  # datetime64[M], consecutive
    rate: np.ndarray  # dividend per index unit, annual rate, in index points
    price: np.ndarray  # average index level of the month

    @property
    def first_month(self) -> np.datetime64:
        return self.months[0]

    @property
    def last_month(self) -> np.datetime64:
        return self.months[-1]

    @property
    def last_yield(self) -> float:
        """The last month's dividend over that month's average price (a fraction per year)."""
        return float(self.rate[-1] / self.price[-1])

    def end_day(self) -> np.datetime64:
        """The last calendar day the series covers (end of its last month)."""
        return (self.months[-1] + 1).astype("datetime64[D]") - 1


@lru_cache(maxsize=1)
def shiller_dividends() -> MonthlyDividends:
    """The bundled S&P 500 monthly dividends (see ``feeds/data/NOTICE.md``)."""
    frame = pl.read_csv(SHILLER_PATH, schema={"month": pl.Date, "dividend": pl.Float64, "price": pl.Float64})
    months = frame["month"].to_numpy().astype("datetime64[M]")
    return MonthlyDividends(months, frame["dividend"].to_numpy(), frame["price"].to_numpy())


@dataclass(frozen=True)
class Accrual:
    """Dividend points accrued per row (0 on row 0) and where the data ran out."""

    points: np.ndarray  # (n,)
    carried_from: np.datetime64 | None = None  # first day the last yield was carried forward
    missing_before: np.datetime64 | None = None  # days before the series start accrued nothing


def accrue_monthly(dates: np.ndarray, close: np.ndarray, series: MonthlyDividends) -> Accrual:
    """Points accrued in each row from monthly annual rates (module docstring); no NaN in ``close``."""
    n = len(dates)
    if n < 2:
        return Accrual(np.zeros(n))
    days = np.arange(dates[0], dates[-1] + 1, dtype="datetime64[D]")
    idx = (days.astype("datetime64[M]") - series.first_month).astype(np.int64)
    known = (idx >= 0) & (idx < len(series.months))
    per_day = np.where(known, series.rate[np.clip(idx, 0, len(series.months) - 1)], 0.0) / DAYS_PER_YEAR
    after = idx >= len(series.months)
    # cumulative sums at each trading day: an interval (t-1, t] is a difference of two
    pos = (dates - dates[0]).astype(np.int64)
    covered = np.cumsum(per_day)[pos]
    carried_days = np.cumsum(after)[pos].astype(np.float64)
    points = np.zeros(n)
    points[1:] = np.diff(covered) + series.last_yield * close[:-1] * np.diff(carried_days) / DAYS_PER_YEAR
    before = idx < 0
    return Accrual(
        points,
        carried_from=days[after][0] if after[1:].any() else None,
        missing_before=days[before][-1] if before[1:].any() else None,
    )


def accrue_ex_dates(dates: np.ndarray, ex_dates: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Points accrued in each row from ex-date amounts (module docstring)."""
    points = np.zeros(len(dates))
    rows = np.searchsorted(dates, ex_dates.astype("datetime64[D]"), side="left")
    inside = (ex_dates > dates[0]) & (rows < len(dates))
    np.add.at(points, rows[inside], amounts[inside])
    return points


def total_return_close(close: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Total-return closes (n,): ``tr[t] = tr[t-1] * (close[t] + points[t]) / close[t-1]``, from close[0]."""
    growth = np.ones(len(close))
    growth[1:] = (close[1:] + points[1:]) / close[:-1]
    return close[0] * np.cumprod(growth)


@dataclass(frozen=True)
class DividendFile:
    """A ``--dividends csv:PATH`` file: ex-date amounts per ticker (None = the file has no ticker column)."""

    path: str
    series: dict[str | None, tuple[np.ndarray, np.ndarray]]  # ticker -> (ex dates datetime64[D], amounts)


def read_dividend_file(path: str | Path) -> DividendFile:
    """Read and check a dividend file (``date,dividend[,ticker]``; ``dividends`` also accepted).

    Bad input raises :class:`InputError` naming file, row and field: an unparsable
    date, an empty, non-numeric, non-finite or negative dividend, a repeated date.
    """
    origin = str(path)
    raw = read_text_table(path)
    names = {re.sub(r"[\s_\-]", "", c.lower()): c for c in raw.columns}
    date_col = names.get("date") or names.get("exdate")
    amount_col = names.get("dividend") or names.get("dividends")
    ticker_col = names.get("ticker") or names.get("symbol")
    if date_col is None or amount_col is None:
        raise InputError(
            f"{origin}: expected columns date,dividend[,ticker] (found: {', '.join(raw.columns) or 'none'})"
        )
    rows: dict[str | None, dict[np.datetime64, float]] = {}
    first_row: dict[tuple[str | None, np.datetime64], int] = {}
    tickers = raw[ticker_col].to_list() if ticker_col else [None] * raw.height
    for i, (day, amount, ticker) in enumerate(
        zip(raw[date_col].to_list(), raw[amount_col].to_list(), tickers, strict=True), start=1
    ):
        date = parse_day(day, where(origin, i, date_col))
        value = parse_number(amount, where(origin, i, amount_col), "dividend")
        if value < 0:
            raise InputError(f"{where(origin, i, amount_col)}: negative dividend {amount.strip()}")
        if ticker_col is not None:
            ticker = (ticker or "").strip()
            if not ticker:
                raise InputError(f"{where(origin, i, ticker_col)}: empty ticker")
        key = (ticker, date)
        if key in first_row:
            raise InputError(
                f"{where(origin, i, date_col)}: date {date} repeats row {first_row[key]}"
                + (f" for {ticker}" if ticker else "")
            )
        first_row[key] = i
        rows.setdefault(ticker, {})[date] = value
    series = {}
    for ticker, by_date in rows.items():
        order = sorted(by_date)
        series[ticker] = (np.array(order, dtype="datetime64[D]"), np.array([by_date[d] for d in order]))
    return DividendFile(origin, series)
