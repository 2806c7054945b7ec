"""Independent reference computations in plain Python (no vectorbt, no engine code).

They implement the documented conventions from scratch, loop by loop, so the
engine's vectorized metrics and its simulation (fee-neutral fills, no trade on the
last row) can be checked against them.
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


def post_trade_value(value, current, weights, buy_cost, sell_cost):
    """V' solving V' = value - sum_i c_i |w_i V' - x_i| by bisection (the engine uses Newton's method).

    current: value of each ordered position before the trades; weights: their targets;
    c_i = buy_cost where the position grows, sell_cost where it shrinks.
    """

    def excess(v):
        costs = 0.0
        for w, x in zip(weights, current, strict=True):
            d = w * v - x
            costs += (buy_cost if d > 0 else sell_cost) * abs(d)
        return v - value + costs  # increasing in v; its root is V'

    lo, hi = 0.0, value  # excess(value) >= 0, excess(0) < 0 unless value is all costs
    for _ in range(200):
        mid = (lo + hi) / 2
        if excess(mid) > 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def simulate(closes, targets, fee=0.0, slippage=0.0, cash_growth=None, daily_fees=None):
    """Fee-neutral target-weight rebalancing at the close, cash 1.0, sells before buys.

    On a row with targets the value after the trades V' is found first
    (:func:`post_trade_value`), then each ticker is traded to w x V' at the close: after costs
    every target weight holds exactly. Buys never spend more cash than there is (all scaled by
    one factor if they would). Targets on the last row are not executed (no holding period left).
    closes: list of rows (one price per ticker); targets: list of rows, None = hold;
    cash_growth: value of 1.0 of cash at each close (interest), None = no interest;
    daily_fees: a list that gets the fees paid at each close appended, when given.
    Returns (equity per day, number of fills, total fees).
    """
    k = len(closes[0])
    cash, shares = 1.0, [0.0] * k
    equity, fills, fees_paid = [], 0, 0.0
    last = [math.nan] * k  # a NaN price (no bar): valued at the last known close, not traded
    buy_cost = slippage + fee * (1 + slippage)  # per unit of value traded at the close
    sell_cost = slippage + fee * (1 - slippage)
    for t, (row, target) in enumerate(zip(closes, targets, strict=False)):
        paid_before = fees_paid
        traded = [not math.isnan(p) for p in row]
        last = [p if ok else q for p, q, ok in zip(row, last, traded, strict=True)]
        prices = last
        if cash_growth is not None and t > 0:
            cash *= cash_growth[t] / cash_growth[t - 1]  # interest since the previous close
        if target is not None and t < len(closes) - 1:
            value = cash + sum(s * p for s, p in zip(shares, prices, strict=False) if s)
            ordered = [i for i in range(k) if traded[i] and not math.isnan(target[i])]
            v = post_trade_value(
                value,
                [shares[i] * prices[i] for i in ordered],
                [target[i] for i in ordered],
                buy_cost,
                sell_cost,
            )
            delta = {i: target[i] * v / prices[i] - shares[i] for i in ordered}
            delta = {i: d for i, d in delta.items() if abs(d) >= 1e-12}
            for i, d in delta.items():  # sells
                if d < 0:
                    fill = prices[i] * (1 - slippage)
                    fee_i = -d * fill * fee
                    cash += -d * fill - fee_i
                    shares[i] += d
                    fills += 1
                    fees_paid += fee_i
            buys = {i: d * prices[i] * (1 + slippage) * (1 + fee) for i, d in delta.items() if d > 0}
            scale = min(1.0, cash / sum(buys.values())) if buys else 1.0
            for i, need in buys.items():
                spend = need * scale
                fee_i = spend - spend / (1 + fee)
                shares[i] += spend / (1 + fee) / (prices[i] * (1 + slippage))
                cash -= spend
                fills += 1
                fees_paid += fee_i
        equity.append(cash + sum(s * p for s, p in zip(shares, prices, strict=False) if s))
        if daily_fees is not None:
            daily_fees.append(fees_paid - paid_before)
    return equity, fills, fees_paid
