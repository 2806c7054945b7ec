"""The basis a run's returns are measured on: dividends, the cash rate, the calendar.

Every figure the engine compounds uses the same basis for strategies and
benchmarks alike; ``Basis`` decides it once per run and states it (``to_dict``:
the ``basis`` object of ``--json``; ``statement``: the one line printed under
every comparison).

Dividends, per ticker (``--dividends reinvest|exclude|csv:PATH``, default reinvest):

- the S&P 500 price index (``^GSPC``, ``^SPX``): with ``reinvest`` its returns
  include the bundled monthly dividends (:mod:`feeds.dividends`), "reinvested";
  with ``exclude`` it is price-only, "excluded";
- a ticker named in a ``csv:PATH`` dividend file (or the only ticker of a run,
  for a file without a ``ticker`` column): its ex-date amounts, "reinvested";
- a stock or fund from the Yahoo cache (``yahoo:``): the cache keeps raw closes and
  dividends and splits as dated events (:mod:`feeds.yahoo`); the run's prices are
  the closes forward split-adjusted (a new split changes no earlier row) and the
  dividends, split-adjusted the same way, accrue on their ex-dates exactly like a
  dividend file's amounts (``tr[t] = tr[t-1] * (close[t] + d[t]) / close[t-1]``):
  "reinvested (Yahoo dividend events)"; with ``exclude`` price only, "excluded". So
  yesterday's prices and total return never change when a new dividend or split
  arrives, and a tracked run (``backtest daily``) can be continued across them;
- adjusted closes (the bundled stocks, a file whose ``Adj Close`` differs from its
  ``Close``): dividends are already in the prices, "reinvested" in every mode (they
  cannot be taken out). Such a file is fine for a one-off run; its whole past is
  rescaled by every new dividend, so a tracked run over it stops at the first
  rescaling (``engine.pipeline.runner`` names the first differing day);
- anything else (an index other than the S&P 500, a file with closes only, or one
  whose ``Adj Close`` equals its ``Close``): "unknown", stated, not guessed.

Strategies see the prices of the data as they are; dividends enter only the
returns the engine compounds (``valuation_close``), so a run's signals do not
depend on its basis.

Cash (``--cash-rate``): see :mod:`feeds.cash`; uninvested cash of every strategy
and benchmark earns it (``engine.pipeline.simulate``), and Sharpe and Sortino ratios are
in excess of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feeds import yahoo
from feeds.cash import CashRate
from feeds.dividends import (
    SHILLER_TICKERS,
    DividendFile,
    accrue_ex_dates,
    accrue_monthly,
    read_dividend_file,
    shiller_dividends,
    total_return_close,
)
from feeds.errors import InputError
from feeds.market import Market
from feeds.sources import DataSpec

# Which days trade comes from the price file; when their close is comes from the exchange's calendar
# (feeds.exchange_calendar; the full description is --json's top-level ``calendar``).
CALENDAR = "trading days from the price file; session closes from XNYS (early closes honoured)"
REINVESTED, EXCLUDED, UNKNOWN = "reinvested", "excluded", "unknown"
SHILLER = "shiller"
EVENTS = "events"  # ex-date amounts from the Yahoo cache's dividend events
YAHOO_EVENTS = "Yahoo dividend events"


@dataclass(frozen=True)
class TickerDividends:
    """How one ticker's dividends enter its returns."""

    status: str  # reinvested | excluded | unknown
    source: str  # in words, for the basis statement
    accrue: str | None = None  # SHILLER, "file" or EVENTS for ex-date amounts, or None (prices as they are)


@dataclass(frozen=True)
class Basis:
    """The basis of one run (see the module docstring)."""

    mode: str = "reinvest"
    tickers: dict[str, TickerDividends] = field(default_factory=dict)
    cash: CashRate = field(default_factory=CashRate)
    dividend_file: DividendFile | None = None
    calendar: str = CALENDAR
    # ticker -> (ex-dates datetime64[D], cash per share of the run's prices): Yahoo's dividend events
    events: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def valuation_close(self, market: Market) -> np.ndarray:
        """The closes the engine compounds, (n_days, n_tickers): total-return closes where dividends accrue.

        The market's own array when nothing accrues (so a run without dividends
        gives the same bits as before this basis existed).
        """
        columns = [j for j, t in enumerate(market.tickers) if self._accrues(t)]
        if not columns:
            return market.close
        close = market.close.copy()
        for j in columns:
            rows = np.flatnonzero(~np.isnan(close[:, j]))
            if len(rows) < 2:
                continue
            dates, prices = market.dates[rows], close[rows, j]
            close[rows, j] = total_return_close(prices, self._points(market.tickers[j], dates, prices))
        return close

    def cash_growth(self, dates: np.ndarray) -> np.ndarray | None:
        """Growth of cash from the close of ``dates[0]`` (n,), or None when cash earns nothing."""
        return None if self.cash.is_zero else self.cash.growth(dates)

    def _accrues(self, ticker: str) -> bool:
        entry = self.tickers.get(ticker)
        return entry is not None and entry.accrue is not None

    def _points(self, ticker: str, dates: np.ndarray, prices: np.ndarray) -> np.ndarray:
        entry = self.tickers[ticker]
        if entry.accrue == SHILLER:
            return accrue_monthly(dates, prices, shiller_dividends()).points
        if entry.accrue == EVENTS:
            ex_dates, amounts = self.events[ticker]
            return accrue_ex_dates(dates, ex_dates, amounts)
        assert self.dividend_file is not None
        series = self.dividend_file.series
        ex_dates, amounts = series[ticker] if ticker in series else series[None]
        return accrue_ex_dates(dates, ex_dates, amounts)

    def flags(self, dates: np.ndarray) -> list[str]:
        """What the data did not cover over the trading period ``dates`` (carried forward, missing)."""
        out = []
        shiller = [t for t, e in self.tickers.items() if e.accrue == SHILLER]
        if shiller:
            accrual = accrue_monthly(dates, np.ones(len(dates)), shiller_dividends())
            series = shiller_dividends()
            if accrual.carried_from is not None:
                out.append(
                    f"{', '.join(shiller)}: dividends known to {series.last_month}; from "
                    f"{accrual.carried_from} the last known yield ({series.last_yield * 100:.2f}% a year) "
                    "is carried forward"
                )
            if accrual.missing_before is not None:
                out.append(f"{', '.join(shiller)}: no dividend data before {series.first_month}")
        carried = self.cash.carried_from(dates)
        if carried is not None and self.cash.dates is not None and self.cash.rates is not None:
            out.append(
                f"cash rate: the series ends {self.cash.dates[-1]}; its last rate "
                f"({self.cash.rates[-1] * 100:g}%) is carried forward from {carried}"
            )
        return out

    def dividends_summary(self) -> str | dict[str, str]:
        """One status when every ticker shares it, else per ticker."""
        statuses = {t: e.status for t, e in self.tickers.items()}
        distinct = set(statuses.values())
        return distinct.pop() if len(distinct) == 1 else statuses

    def to_dict(self, dates: np.ndarray) -> dict[str, Any]:
        """The ``basis`` object of a run's JSON over its trading period ``dates``."""
        cash: float | str = self.cash.constant if self.cash.source is None else self.cash.source
        return {
            "dividends": self.dividends_summary(),
            "dividend_sources": {t: e.source for t, e in self.tickers.items()},
            "dividends_mode": self.mode,
            "cash_rate": cash,
            "cash": self.cash.describe(),
            "sharpe": "in excess of the cash rate",
            "calendar": self.calendar,
            "flags": self.flags(dates),
            "statement": self.statement(dates),
        }

    def statement(self, dates: np.ndarray) -> str:
        """The one line printed under every comparison."""
        statuses = {e.status for e in self.tickers.values()}
        if statuses == {REINVESTED}:
            kind = "total return"
        elif statuses == {EXCLUDED}:
            kind = "price only"
        elif UNKNOWN in statuses:
            kind = "total return not known"
        else:
            kind = "mixed (some prices without dividends)"
        groups: dict[tuple[str, str], list[str]] = {}
        for ticker, entry in self.tickers.items():
            groups.setdefault((entry.status, entry.source), []).append(ticker)
        parts = [f"{_names(ts)}: dividends {status} ({source})" for (status, source), ts in groups.items()]
        line = (
            f"basis: {kind} ({'; '.join(parts) or 'no tickers'}); cash earns {self.cash.describe()}, "
            f"Sharpe in excess of it; {self.calendar}"
        )
        flags = self.flags(dates)
        return line + ("; " + "; ".join(flags) if flags else "")


def _names(tickers: list[str], most: int = 3) -> str:
    shown = ", ".join(tickers[:most])
    return shown + (f" +{len(tickers) - most} more" if len(tickers) > most else "")


def resolve_basis(
    data: str,
    dividends: str,
    cash_rate: float | str,
    tickers: tuple[str, ...],
    market: Market,
    *,
    cache_dir: Path | None = None,
) -> Basis:
    """The basis for the ``tickers`` (traded universe and index benchmark) of a run's ``market``."""
    mode, dividend_file = _dividend_mode(dividends, tickers)
    kinds = price_kinds(DataSpec.parse(data), market, cache_dir)
    entries = {}
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ticker in tickers:
        entries[ticker] = _ticker_dividends(ticker, kinds.get(ticker, "as given"), mode, dividend_file)
        if entries[ticker].accrue == EVENTS:
            if cache_dir is None:
                raise ValueError("cache_dir is required for yahoo: data")
            events[ticker] = yahoo.read_events(cache_dir, ticker)
    return Basis(
        mode=mode,
        tickers=entries,
        cash=CashRate.parse(cash_rate),
        dividend_file=dividend_file,
        events=events,
    )


def _dividend_mode(dividends: str, tickers: tuple[str, ...]) -> tuple[str, DividendFile | None]:
    """``--dividends`` read: the mode (reinvest, exclude or csv:PATH) and its file, if any."""
    mode = dividends.strip()
    if mode.startswith("csv:"):
        dividend_file = read_dividend_file(mode[4:])
        if None in dividend_file.series and len(tickers) != 1:
            raise InputError(
                f"{dividend_file.path}: no ticker column, and the run has {len(tickers)} tickers "
                f"({', '.join(tickers)}); add a ticker column"
            )
        return mode, dividend_file
    if mode not in ("reinvest", "exclude"):
        raise InputError(f"--dividends {dividends!r}: expected reinvest, exclude or csv:PATH")
    return mode, None


def _ticker_dividends(
    ticker: str, kind: str, mode: str, dividend_file: DividendFile | None
) -> TickerDividends:
    """How ``ticker``'s dividends enter its returns, given the kind of its prices (``price_kinds``)."""
    in_file = dividend_file.series if dividend_file is not None else {}
    file_name = dividend_file.path if dividend_file is not None else ""
    if ticker in in_file or None in in_file:
        if kind == "adjusted":
            raise InputError(
                f"{file_name}: {ticker} has adjusted closes (dividends already in its prices); "
                "a dividend file would count them twice"
            )
        if kind == EVENTS:
            raise InputError(
                f"{file_name}: {ticker} comes from the Yahoo cache, which has its dividends as "
                "events already; a dividend file would count them twice"
            )
        return TickerDividends(REINVESTED, f"ex-date amounts from {file_name}", "file")
    if ticker in SHILLER_TICKERS:
        if mode == "exclude":
            return TickerDividends(EXCLUDED, "S&P 500 price index")
        return TickerDividends(
            REINVESTED, "Shiller's monthly S&P 500 dividends, accrued per calendar day", SHILLER
        )
    if kind == EVENTS:
        if mode == "exclude":
            return TickerDividends(EXCLUDED, "raw closes, split-adjusted forward")
        return TickerDividends(REINVESTED, YAHOO_EVENTS, EVENTS)
    return {
        "adjusted": TickerDividends(REINVESTED, "adjusted closes"),
        "index": TickerDividends(UNKNOWN, "an index without a dividend series"),
        "adj equals close": TickerDividends(UNKNOWN, "Adj Close equals Close in the file"),
    }.get(kind, TickerDividends(UNKNOWN, "closes as given, not known to be adjusted"))


def price_kinds(spec: DataSpec, market: Market, cache_dir: Path | None = None) -> dict[str, str]:
    """What each ticker's closes are: "adjusted", EVENTS, "index", "adj equals close" or "as given".

    The bundled sample holds a price index (``^GSPC``) and adjusted stock closes;
    the Yahoo cache holds raw closes with dividend events (EVENTS; an index has no
    dividends there); a file is checked column by column.
    """
    kinds = {}
    for ticker in market.tickers:
        if ticker.startswith("^"):
            kinds[ticker] = "index"
        elif spec.scheme == "sample":
            kinds[ticker] = "adjusted"
        elif spec.scheme == "yahoo":
            kinds[ticker] = EVENTS
    if spec.scheme in ("csv", "parquet"):
        for ticker, kind in _file_kinds(Path(spec.target).expanduser(), market.tickers).items():
            kinds.setdefault(ticker, kind)
    return kinds


def _file_kinds(path: Path, tickers: tuple[str, ...]) -> dict[str, str]:
    """Per ticker of a price file: does its Adj Close differ from its Close anywhere?"""
    from feeds.files import canonical_name

    try:
        raw = pl.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pl.read_csv(path)
    except (pl.exceptions.PolarsError, OSError):
        return {}
    fields = {}
    for column in raw.columns:
        fields.setdefault(canonical_name(column), column)
    if "adj_close" not in fields or "close" not in fields:
        return {t: "as given" for t in tickers}
    adj = pl.col(fields["adj_close"]).cast(pl.Float64, strict=False)
    close = pl.col(fields["close"]).cast(pl.Float64, strict=False)
    differs = ((adj - close).abs() > 1e-9 * close.abs()).fill_null(False)
    if "ticker" in fields:
        by = raw.group_by(pl.col(fields["ticker"]).cast(pl.String).str.strip_chars().alias("t")).agg(
            differs.any().alias("d")
        )
        found = dict(zip(by["t"].to_list(), by["d"].to_list(), strict=True))
    else:
        found = {t: bool(raw.select(differs.any()).item()) for t in tickers}
    return {t: "adjusted" if d else "adj equals close" for t, d in found.items()}
