"""Independent reference computations in plain Python (no vectorbt, no engine code).

They implement the documented conventions from scratch, loop by loop, so the
engine's vectorized metrics and its vectorbt-based simulation can be checked
against them.
"""

from __future__ import annotations

import datetime as dt
import math


def to_date(d) -> dt.date:
    return dt.date.fromisoformat(str(d))


def cagr(dates, values, initial=1.0):
    days = (to_date(dates[-1]) - to_date(dates[0])).days
    return (values[-1] / initial) ** (365.25 / days) - 1


def yearly(dates, values, initial=1.0):
    """{year: yield}; a start on a year's last day counts in the next year."""
    out, prev = {}, initial
    years = [to_date(d).year for d in dates]
    if len(years) > 1 and years[1] != years[0]:
        years[0] = years[1]
    for i, year in enumerate(years):
        last_of_year = i == len(years) - 1 or years[i + 1] != year
        if last_of_year:
            out[year] = values[i] / prev - 1
            prev = values[i]
    return out


def returns(values):
    return [values[i] / values[i - 1] - 1 for i in range(1, len(values))]


def sharpe(dates, values):
    r = returns(values)
    n = len(r)
    mean = sum(r) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in r) / (n - 1))
    years = (to_date(dates[-1]) - to_date(dates[0])).days / 365.25
    return mean / std * math.sqrt(n / years)


def max_drawdown(values, initial=1.0):
    peak, worst = initial, 0.0
    for v in values:
        peak = max(peak, v)
        worst = min(worst, v / peak - 1)
    return worst


def simulate(closes, targets, fee=0.0, slippage=0.0, cash_growth=None, daily_fees=None):
    """Target-weight rebalancing at the close, cash 1.0, sells before buys.

    closes: list of rows (one price per ticker); targets: list of rows, None = hold;
    cash_growth: value of 1.0 of cash at each close (interest), None = no interest;
    daily_fees: a list that gets the fees paid at each close appended, when given.
    Returns (equity per day, number of fills, total fees).
    """
    k = len(closes[0])
    cash, shares = 1.0, [0.0] * k
    equity, fills, fees_paid = [], 0, 0.0
    last = [math.nan] * k  # a NaN price (no bar): valued at the last known close, not traded
    for t, (row, target) in enumerate(zip(closes, targets, strict=False)):
        paid_before = fees_paid
        traded = [not math.isnan(p) for p in row]
        last = [p if ok else q for p, q, ok in zip(row, last, traded, strict=True)]
        prices = last
        if cash_growth is not None and t > 0:
            cash *= cash_growth[t] / cash_growth[t - 1]  # interest since the previous close
        if target is not None:
            value = cash + sum(s * p for s, p in zip(shares, prices, strict=False) if s)
            wanted = [
                w * value / p if ok else s
                for w, p, s, ok in zip(target, prices, shares, traded, strict=False)
            ]
            order = sorted(range(k), key=lambda i: wanted[i] - shares[i])  # sells first
            for i in order:
                delta = wanted[i] - shares[i]
                if abs(delta) < 1e-12:
                    continue
                if delta < 0:
                    fill = prices[i] * (1 - slippage)
                    fee_i = -delta * fill * fee
                    cash += -delta * fill - fee_i
                else:
                    fill = prices[i] * (1 + slippage)
                    cost = delta * fill * (1 + fee)
                    if cost > cash:  # reduce the buy to what cash covers
                        delta = cash / (fill * (1 + fee))
                        cost = cash
                    fee_i = delta * fill * fee
                    cash -= cost
                shares[i] += delta
                fills += 1
                fees_paid += fee_i
        equity.append(cash + sum(s * p for s, p in zip(shares, prices, strict=False) if s))
        if daily_fees is not None:
            daily_fees.append(fees_paid - paid_before)
    return equity, fills, fees_paid
