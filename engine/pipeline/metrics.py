"""Performance metrics from an equity curve and real dates: pure functions, checked by tests.

Conventions. ``dates``: ``datetime64[D]`` of the trading period, shape (n,);
``equity``: portfolio value at each close after that close's trades, shape (n, m)
for m portfolios; ``initial``: the value before the first trade (1.0, cash), which
belongs to the first close before trading. So costs of the opening trade count.

- **CAGR** ("annual yield"): ``(equity[-1] / initial) ** (365.25 / days) - 1``
  with ``days`` the calendar days from the first to the last date of the period.
- **Yearly yield** of calendar year Y: value at the last close of Y over value at
  the last close of Y-1 (``initial`` for the first year), minus 1. The first and
  last years may be partial; they are listed in ``partial_years``. A period that
  starts on a year's last close counts its opening trade in the next year.
- Daily returns ``r`` are close-to-close changes of equity (n-1 of them; the
  opening trade is not a day's return). ``periods_per_year`` = (n-1) / years of
  calendar span, measured from the dates (about 252 for NYSE days), not assumed.
- **Volatility** = std(r, ddof=1) * sqrt(ppy). **Sharpe** = mean(x) / std(x, ddof=1)
  * sqrt(ppy) with x = r - c, the daily returns in excess of what cash earned on
  the same days (``cash_returns``; 0 when cash earns nothing, see ``--cash-rate``).
  **Sortino** = mean(x) / sqrt(mean(min(x, 0)^2)) * sqrt(ppy).
- **Max drawdown**: min over t of value_t / max(values up to t) - 1, a fraction
  <= 0, with ``initial`` as the first peak. **Calmar** = CAGR / |max drawdown|.
- **Exposure**: share of closes after which the portfolio holds any position;
  **average exposure**: mean gross exposure (sum |position| / equity).
- **Turnover**: traded value / value before trading, summed, per year of span
  (1.0 = the whole portfolio traded once a year, one way). **Trades**: number of fills.
- **Hit rate**: among days whose previous close left a position, the share on
  which that position made money (before costs).
- **Fees paid**: the fees (``--cost-bps`` of traded value; slippage is in the fill
  price, not here) summed over the period, over ``initial``: a fraction of the
  starting value, which is also the currency paid by a portfolio that starts at
  1.0. **Yearly fees** of calendar year Y: fees paid at the closes of Y (the same
  rows as the yearly yield, so an opening trade on a year's last close counts in the
  next year) over the value the year's yield starts from (the last close of Y-1,
  ``initial`` for the first year): comparable to that year's yield.
- **Aggregates over seeds** (:func:`seed_aggregate`): mean, sample standard
  deviation, median, best and worst of the seeds' CAGRs, and so on; a deterministic
  strategy aggregates its one column. The **best seed** everywhere (aggregates,
  evidence, sweep reports) is the seed with the highest CAGR
  (:func:`best_column`; the first on ties).

Undefined values (e.g. Sharpe of a flat curve) are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from feeds.exchange_calendar import count_sessions

DAYS_PER_YEAR = 365.25


def span_years(dates: np.ndarray) -> float:
    """Calendar years from the first to the last date (365.25-day years)."""
    days = (dates[-1] - dates[0]).astype("timedelta64[D]").astype(np.int64)
    if days <= 0:
        raise ValueError("the period must span at least one calendar day")
    return float(days) / DAYS_PER_YEAR


def cagr(dates: np.ndarray, equity: np.ndarray, initial: float = 1.0) -> np.ndarray:
    """Compound annual growth rate per column, from real dates (see module docstring)."""
    return (equity[-1] / initial) ** (1.0 / span_years(dates)) - 1.0


def year_of_rows(dates: np.ndarray) -> np.ndarray:
    """The calendar year each row of the period counts in (n,): its date's year, except that a
    period starting on a year's last close counts that first row (the opening trade) in the next."""
    years_of = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    if len(dates) > 1 and years_of[1] != years_of[0]:
        years_of = years_of.copy()
        years_of[0] = years_of[1]
    return years_of


def yearly_yields(
    dates: np.ndarray, equity: np.ndarray, initial: float = 1.0
) -> tuple[list[int], np.ndarray, list[int]]:
    """Calendar-year yields: (years, array (n_years, m), partial years).

    A period that starts on the last close of a year (annual strategies do) has no
    holding day in that year: its opening costs are counted in the next year.
    A year is partial when the period starts after its first exchange session or
    ends before its last one (XNYS sessions, :mod:`feeds.exchange_calendar`; so a
    period from 2017-01-03 is a full year: Jan 2, 2017 was a holiday).
    """
    years_of = year_of_rows(dates)
    last_rows = np.flatnonzero(np.r_[years_of[1:] != years_of[:-1], True])
    ends = equity[last_rows]
    starts = np.vstack([np.full((1, *equity.shape[1:]), initial), ends[:-1]])
    years = [int(y) for y in years_of[last_rows]]
    partial = []
    first = dates[0] if years_of[0] == dates[0].astype("datetime64[Y]").astype(np.int64) + 1970 else None
    if first is not None:
        jan2 = first.astype("datetime64[Y]").astype("datetime64[D]") + 1  # Jan 1 is never a session
        if count_sessions(jan2, first) > 0:  # an exchange session of the year came before the period
            partial.append(years[0])
    last = dates[-1]
    next_jan1 = (last.astype("datetime64[Y]") + 1).astype("datetime64[D]")
    if count_sessions(last + 1, next_jan1) > 0 and years[-1] not in partial:
        partial.append(years[-1])
    return years, ends / starts - 1.0, partial


def fees_paid(fees: np.ndarray, initial: float = 1.0) -> np.ndarray:
    """Fees paid over the period per column (m,), a fraction of ``initial`` (module docstring).

    ``fees`` (n, m): the fees paid at each close, in the currency of ``initial``."""
    return fees.sum(axis=0) / initial


def yearly_fees(dates: np.ndarray, equity: np.ndarray, fees: np.ndarray, initial: float = 1.0) -> np.ndarray:
    """Fees paid per calendar year (n_years, m), each over the value the year's yield starts from.

    Rows of the years of :func:`yearly_yields`, in the same order (module docstring).
    """
    years_of = year_of_rows(dates)
    boundaries = np.flatnonzero(np.r_[True, years_of[1:] != years_of[:-1]])
    paid = np.add.reduceat(fees, boundaries, axis=0)  # (n_years, m): fees at the closes of each year
    last_rows = np.r_[boundaries[1:] - 1, len(dates) - 1]
    starts = np.vstack([np.full((1, *equity.shape[1:]), initial), equity[last_rows][:-1]])
    return paid / starts


def daily_returns(equity: np.ndarray) -> np.ndarray:
    """Close-to-close returns, shape (n-1, m)."""
    return equity[1:] / equity[:-1] - 1.0


def periods_per_year(dates: np.ndarray) -> float:
    """Return intervals per calendar year, measured from the dates."""
    return (len(dates) - 1) / span_years(dates)


def volatility(returns: np.ndarray, ppy: float) -> np.ndarray:
    return _std(returns) * np.sqrt(ppy)


def sharpe(returns: np.ndarray, ppy: float) -> np.ndarray:
    std = _std(returns)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(std > 0, returns.mean(axis=0) / std * np.sqrt(ppy), np.nan)


def sortino(returns: np.ndarray, ppy: float) -> np.ndarray:
    downside = np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(downside > 0, returns.mean(axis=0) / downside * np.sqrt(ppy), np.nan)


def max_drawdown(equity: np.ndarray, initial: float = 1.0) -> np.ndarray:
    """Deepest fall from a running peak, a fraction <= 0 (initial value is the first peak)."""
    values = np.vstack([np.full((1, *equity.shape[1:]), initial), equity])
    peaks = np.maximum.accumulate(values, axis=0)
    return (values / peaks - 1.0).min(axis=0)


def _std(returns: np.ndarray) -> np.ndarray:
    if len(returns) < 2:
        return np.full(returns.shape[1:], np.nan)
    return returns.std(axis=0, ddof=1)


@dataclass(frozen=True)
class MetricSet:
    """Every metric for m portfolios over one period; arrays have shape (m,)."""

    cagr: np.ndarray
    total_return: np.ndarray
    final_value: np.ndarray
    volatility: np.ndarray
    sharpe: np.ndarray
    sortino: np.ndarray
    max_drawdown: np.ndarray
    calmar: np.ndarray
    exposure: np.ndarray
    avg_exposure: np.ndarray
    turnover: np.ndarray
    trades: np.ndarray
    hit_rate: np.ndarray
    years: list[int]
    yearly: np.ndarray  # (n_years, m)
    partial_years: list[int]
    fees_paid: np.ndarray  # (m,): fees over the period, a fraction of the starting value
    yearly_fees: np.ndarray  # (n_years, m): fees per year over the value the year started from

    SCALARS = (
        "cagr",
        "total_return",
        "final_value",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
        "exposure",
        "avg_exposure",
        "turnover",
        "trades",
        "hit_rate",
    )

    def mean_over(self, columns: list[int]) -> MetricSet:
        """One column: the mean over ``columns`` of every metric (a stochastic strategy's headline)."""
        one = {name: np.array([np.mean(getattr(self, name)[columns])]) for name in self.SCALARS}
        return replace(
            self,
            **one,
            yearly=np.array([[np.mean(self.yearly[i, columns])] for i in range(len(self.years))]),
            fees_paid=np.array([np.mean(self.fees_paid[columns])]),
            yearly_fees=np.array([[np.mean(self.yearly_fees[i, columns])] for i in range(len(self.years))]),
        )


def best_column(cagr: np.ndarray) -> int:
    """The best seed among columns of CAGRs (m,): the highest CAGR, the first on ties.

    The one criterion of "best seed" for aggregates, evidence and sweep reports; over a common
    period and starting value, ordering by final value is the same ordering.
    """
    return int(np.argmax(cagr))


def seed_aggregate(
    metrics: MetricSet, columns: list[int], benchmark_cagr: float, *, stochastic: bool
) -> dict[str, Any]:
    """Figures over the seed ``columns`` of a strategy (its one column when not ``stochastic``).

    Fractions; ``cagr_std`` is the sample standard deviation (0 with one column); the best is
    :func:`best_column`'s; ``share_beating_benchmark`` the share of columns whose CAGR is above
    ``benchmark_cagr`` (the primary benchmark's); ``fees_paid_mean`` the mean fees paid (fraction
    of the starting value).
    """
    growth = metrics.cagr[columns]
    return {
        "n_seeds": len(columns) if stochastic else 0,
        "cagr_mean": float(np.mean(growth)),
        "cagr_std": float(np.std(growth, ddof=1)) if len(columns) > 1 else 0.0,
        "cagr_median": float(np.median(growth)),
        "cagr_best": float(growth[best_column(growth)]),
        "cagr_worst": float(np.min(growth)),
        "sharpe_mean": float(np.mean(metrics.sharpe[columns])),
        "max_drawdown_mean": float(np.mean(metrics.max_drawdown[columns])),
        "share_beating_benchmark": float(np.mean(growth > benchmark_cagr)),
        "fees_paid_mean": float(np.mean(metrics.fees_paid[columns])),
    }


def compute_metrics(
    dates: np.ndarray,
    equity: np.ndarray,
    *,
    exposure: np.ndarray,
    traded_value: np.ndarray,
    fees: np.ndarray,
    position_pnl: np.ndarray,
    n_orders: np.ndarray,
    initial: float = 1.0,
    cash_returns: np.ndarray | None = None,
) -> MetricSet:
    """All metrics of m portfolios; inputs as produced by :func:`engine.simulate.simulate`.

    ``cash_returns`` (n-1,): daily returns of cash (the risk-free rate), for Sharpe and Sortino.
    """
    years_span = span_years(dates)
    ppy = periods_per_year(dates)
    returns = daily_returns(equity)
    excess = returns if cash_returns is None else returns - cash_returns[:, None]
    growth = cagr(dates, equity, initial)
    mdd = max_drawdown(equity, initial)
    years, yearly, partial = yearly_yields(dates, equity, initial)
    held = exposure > 1e-12
    held_before = held[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        calmar = np.where(mdd < 0, growth / np.abs(mdd), np.nan)
        turnover = (traded_value / (equity + fees)).sum(axis=0) / years_span
        hits = ((position_pnl[1:] > 0) & held_before).sum(axis=0)
        hit_rate = np.where(held_before.any(axis=0), hits / held_before.sum(axis=0), np.nan)
    return MetricSet(
        cagr=growth,
        total_return=equity[-1] / initial - 1.0,
        final_value=equity[-1].copy(),
        volatility=volatility(returns, ppy),
        sharpe=sharpe(excess, ppy),
        sortino=sortino(excess, ppy),
        max_drawdown=mdd,
        calmar=calmar,
        exposure=held.mean(axis=0),
        avg_exposure=np.nan_to_num(exposure).mean(axis=0),
        turnover=turnover,
        trades=n_orders.astype(np.int64),
        hit_rate=hit_rate,
        years=years,
        yearly=yearly,
        partial_years=partial,
        fees_paid=fees_paid(fees, initial),
        yearly_fees=yearly_fees(dates, equity, fees, initial),
    )
