"""Order execution at the close: target-weight orders filled with costs, in two rules.

**Fee-neutral (the default, :func:`simulate_orders`).** On each row, a member's orders are
filled together so that, after costs, every ordered ticker holds exactly its target
weight of the member's value after the trades. Notation for one member on one row:
``V`` its value before the trades (cash plus every position at its last known close
``p_i``), ``x_i`` the value of position i, ``w_i`` the target weight of each ordered
ticker (tickers without an order keep their shares), ``f`` the fee and ``s`` the
slippage (fractions). A buy fills at ``p_i (1 + s)`` and pays ``f`` of that, a sell
fills at ``p_i (1 - s)`` and pays ``f`` of that; per unit of value traded at the close
the cost is therefore ``c_buy = s + f (1 + s)`` or ``c_sell = s + f (1 - s)``. The value
after the trades ``V'`` is the value before less those costs, with every ordered
position at ``w_i V'``::

    V' = V - sum_i c_i |w_i V' - x_i|,      c_i = c_buy if w_i V' > x_i else c_sell

``g(v) = v - V + sum_i c_i |w_i v - x_i|`` is piecewise linear and convex in ``v`` (each
term is a "V" with non-negative slopes on both sides) and increasing wherever
``sum_i c_i |w_i| < 1`` (always, short of costs near 100% times the leverage), so
``V'`` is its one root. It is solved exactly by Newton's method from ``v = V``, where
``g(V) >= 0``: on the segment where the signs ``sigma_i = sign(w_i v - x_i)`` are fixed
the equation is linear, ``V' = (V + sum_i sigma_i c_i x_i) / (1 + sum_i sigma_i c_i w_i)``;
for a convex function started right of its root each step stays right of the root
and lands on it once the signs stop changing, so the loop ends after at most one
step per segment (in practice one or two). All cash into k equal weights is the
closed form ``V' = V / (1 + c_buy)``, each name holding ``V' / k``. Orders then execute
sells first (their proceeds are cash for the buys), shares ``w_i V' / p_i`` less those
held. Buys cannot spend cash that is not there (as before: a long book above 100%
needs short proceeds to fund it): when the buys need the whole cash or more, each
buy gets the cash in proportion to what it needs (every buy scaled by the same
factor) and buys what its share covers after costs. That also absorbs the last ulp
of rounding in a fully invested book, so "all in" spends exactly the cash. With one
ticker, all in from cash (weight 1), all out (weight 0) and holding fill bit for bit
as under the sequential rule; other weights differ by design (the sequential rule
sizes the order from ``V`` and leaves the weight above target by the cost). Where no
positive ``V'`` exists the row's orders are not executed.

**Sequential (:func:`simulate_orders_sequential`, ``Costs(fills="sequential")``).**
vectorbt's ``Portfolio.from_orders`` for our one use, without vectorbt: each order is
sized from the value before the row's trades and executed one after another (sells
first, then buys in order of value), so the last buy absorbs the whole row's costs
(79 names bought from cash at 150 bps: the last one is never bought). Kept because it
is vectorbt's rule and the port is checked against vectorbt itself (bt, by contrast,
lets each order pay its own fee out of an amount sized from the value before the
trades: equal after an opening from cash, off by about the fee at a rebalance).
Why a port: importing vectorbt costs about 4 s of every command (it imports scipy,
scikit-learn, plotly and more), more than the whole rest of a ``backtest run``. We call
it in one configuration only (target-percent orders at the close, fees and slippage in
fractions, cash 1.0, sells first inside a member, no fixed fees, no size limits), so
this is a line-by-line port of the numba functions vectorbt runs for it
(``simulate_from_orders_nb``, ``execute_order_nb``, ``buy_nb``, ``sell_nb``,
``approx_order_value_nb``, ``insert_argsort_nb`` and the tolerant float helpers of
``vectorbt.utils.math_``, vectorbt 1.2), keeping their operations in the same
order, so the fills are the same bits. ``tests/engine/pipeline/test_fills.py`` checks
them against vectorbt itself (its reference run lives in ``tests/engine/pipeline/vbt_reference.py``)
on random orders (long, short, leveraged, NaN prices, several members and tickers), and
the fee-neutral rule against closed forms, bt, and a plain-Python reference that finds
``V'`` by bisection (``tests/engine/reference.py``, ``tests/engine/test_equal_weight.py``).

Output of both: fill records as vectorbt's ``order_records`` (fields ``idx``, ``col``,
``size``, ``price``, ``fees``, ``side``: 0 buy, 1 sell).

The kernels are compiled by numba on their first call (numba is imported then, not with this
module); a small book in a process that has not loaded numba runs the same source as plain Python
instead (:func:`interpret`, :data:`SMALL_BOOK`): a ``backtest run`` of a rule strategy on the
sample never imports numba.
"""

from __future__ import annotations

import sys

import numpy as np

from engine.pipeline.lazy_kernels import KernelSet

# Up to this many cells (rows with an order x columns) a simulation runs the kernels as plain
# Python when numba is not loaded yet: importing numba and loading the compiled kernels from its
# disk cache costs 0.4-0.9 s of a process; interpreted, a cell takes about 15 us on an idle core
# (a ma-trend run's 8,113 cells 0.11 s, 20,000 cells 0.31-0.34 s). The same source runs either
# way, with the same IEEE double operations in the same order, so the fills are the same bits
# (tests/engine/pipeline/test_fills.py compares the two).
SMALL_BOOK = 20_000

_FILLS = KernelSet()  # every kernel of this module, compiled together on first call
njit = _FILLS.njit


def interpret(cells: int) -> bool:
    """Whether a simulation of ``cells`` (rows x columns) runs the kernels as plain Python:
    small and numba not loaded in this process (see :data:`SMALL_BOOK`)."""
    return cells <= SMALL_BOOK and "numba" not in sys.modules


RECORD_DTYPE = np.dtype(
    [("id", np.int64), ("col", np.int64), ("idx", np.int64), ("size", np.float64), ("price", np.float64),
     ("fees", np.float64), ("side", np.int64)]
)  # fmt: skip
REL_TOL = 1e-9  # vectorbt.utils.math_
ABS_TOL = 1e-12
_BOUGHT, _SOLD, _IGNORED, _REJECTED = 0, 1, 2, 3  # statuses; a fill's side is 0 buy, 1 sell
# integer arguments that start at a constant pass through np.int64 (and float ones are written
# 0.0): numba types a Python int constant as a literal and compiles a callee once per literal
# value besides int64 (4 specializations of _record instead of 1; ~0.5 s CPU cold, measured)


@njit(cache=True)
def _is_close(a: float, b: float) -> bool:
    if np.isnan(a) or np.isnan(b):
        return False
    if np.isinf(a) or np.isinf(b):
        return False
    if a == b:
        return True
    return abs(a - b) <= max(REL_TOL * max(abs(a), abs(b)), ABS_TOL)


@njit(cache=True)
def _is_close_or_less(a: float, b: float) -> bool:
    if _is_close(a, b):
        return True
    return a < b


@njit(cache=True)
def _is_less(a: float, b: float) -> bool:
    if _is_close(a, b):
        return False
    return a < b


@njit(cache=True)
def _add(a: float, b: float) -> float:
    """a + b, exactly 0.0 when the two (nearly) cancel."""
    zero = _is_close(abs(a), abs(b)) if np.sign(a) != np.sign(b) else _is_close(a + b, 0.0)
    return 0.0 if zero else a + b


@njit(cache=True)
def _buy(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    size: float,
    price: float,
    fees: float,
    slippage: float,
) -> tuple[int, float, float, float, float, float, float, float]:
    """vectorbt's buy_nb (no cash lock, no fixed fees, no size limits, partial fills allowed).
    Returns (status, cash, position, debt, free_cash, filled size, fill price, fees paid)."""
    fixed_fees = 0.0
    min_size = 0.0
    adj_price = price * (1 + slippage)
    cash_limit = min(cash, cash)
    if cash_limit == 0:
        return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    adj_size = size
    if adj_size == 0:
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    req_cash = adj_size * adj_price
    req_fees = req_cash * fees + fixed_fees
    total_req_cash = req_cash + req_fees
    if _is_close_or_less(total_req_cash, cash_limit):
        final_size = adj_size
        fees_paid = req_fees
        final_req_cash = total_req_cash
    else:
        max_req_cash = _add(cash_limit, -fixed_fees) / (1 + fees)
        if max_req_cash <= 0:
            return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
        max_acq_size = max_req_cash / adj_price
        final_size = max_acq_size
        fees_paid = cash_limit - max_req_cash
        final_req_cash = cash_limit
    if _is_close(adj_size, 0.0):
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    if _is_less(final_size, min_size):
        return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    new_cash = _add(cash, -final_req_cash)
    new_position = _add(position, final_size)
    if position < 0:
        short_size = final_size if new_position < 0 else abs(position)
        avg_entry_price = debt / abs(position)
        debt_diff = short_size * avg_entry_price
        new_debt = _add(debt, -debt_diff)
        new_free_cash = _add(free_cash + 2 * debt_diff, -final_req_cash)
    else:
        new_debt = debt
        new_free_cash = _add(free_cash, -final_req_cash)
    return _BOUGHT, new_cash, new_position, new_debt, new_free_cash, final_size, adj_price, fees_paid


@njit(cache=True)
def _sell(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    size: float,
    price: float,
    fees: float,
    slippage: float,
) -> tuple[int, float, float, float, float, float, float, float]:
    """vectorbt's sell_nb (direction both, no cash lock, no fixed fees, finite size)."""
    fixed_fees = 0.0
    min_size = 0.0
    adj_price = price * (1 - slippage)
    size_limit = size
    if np.isinf(size_limit):
        raise ValueError("Attempt to go in short direction infinitely")
    if _is_close(size_limit, 0.0):
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    if _is_less(size_limit, min_size):
        return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    acq_cash = size_limit * adj_price
    fees_paid = acq_cash * fees + fixed_fees
    final_acq_cash = _add(acq_cash, -fees_paid)
    if final_acq_cash < 0:
        return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    new_cash = cash + final_acq_cash
    new_position = _add(position, -size_limit)
    if new_position < 0:
        short_size = size_limit if position < 0 else abs(new_position)
        short_value = short_size * adj_price
        new_debt = debt + short_value
        free_cash_diff = _add(final_acq_cash, -2 * short_value)
        new_free_cash = _add(free_cash, free_cash_diff)
    else:
        new_debt = debt
        new_free_cash = free_cash + final_acq_cash
    return _SOLD, new_cash, new_position, new_debt, new_free_cash, size_limit, adj_price, fees_paid


@njit(cache=True)
def _execute(
    cash: float,
    position: float,
    debt: float,
    free_cash: float,
    val_price: float,
    value: float,
    size: float,
    price: float,
    fees: float,
    slippage: float,
) -> tuple[int, float, float, float, float, float, float, float]:
    """vectorbt's execute_order_nb for a target-percent order in direction both."""
    if _is_close(cash, 0.0):
        cash = 0.0
    if _is_close(position, 0.0):
        position = 0.0
    if _is_close(debt, 0.0):
        debt = 0.0
    if _is_close(free_cash, 0.0):
        free_cash = 0.0
    if _is_close(val_price, 0.0):
        val_price = 0.0
    if _is_close(value, 0.0):
        value = 0.0
    if np.isnan(size) or np.isnan(price):
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    if np.isnan(cash) or cash < 0:
        raise ValueError("cash cannot be NaN and must be greater than 0")
    if not np.isfinite(position):
        raise ValueError("position must be finite")
    if not np.isfinite(debt) or debt < 0:
        raise ValueError("debt must be finite and 0 or greater")
    if np.isnan(free_cash):
        raise ValueError("free_cash cannot be NaN")
    if not np.isfinite(price) or price <= 0:
        raise ValueError("order.price must be finite and greater than 0")
    order_size = size
    if np.isnan(value):
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    if value <= 0:
        return _REJECTED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    order_size *= value
    if np.isinf(val_price) or val_price <= 0:
        raise ValueError("val_price_now must be finite and greater than 0")
    if np.isnan(val_price):
        return _IGNORED, cash, position, debt, free_cash, 0.0, 0.0, 0.0
    order_size /= val_price
    order_size -= position
    if order_size > 0:
        return _buy(cash, position, debt, free_cash, order_size, price, fees, slippage)
    return _sell(cash, position, debt, free_cash, -order_size, price, fees, slippage)


@njit(cache=True)
def _insert_argsort(a: np.ndarray, index: np.ndarray) -> None:
    """vectorbt's insert_argsort_nb: stable insertion sort of ``a``, NaN last, permuting ``index``."""
    for j in range(1, len(a)):
        a_j = a[j]
        i_j = index[j]
        i = j - 1
        while i >= 0 and (a[i] > a_j or np.isnan(a[i])):
            a[i + 1] = a[i]
            index[i + 1] = index[i]
            i = i - 1
        a[i + 1] = a_j
        index[i + 1] = i_j


@njit(cache=True)
def _record(
    records: np.ndarray, oidx: int, col: int, i: int, size: float, price: float, fees: float, side: int
) -> None:
    """Write fill number ``oidx`` (vectorbt's order record layout)."""
    record = records[oidx]
    record["id"] = oidx
    record["col"] = col
    record["idx"] = i
    record["size"] = size
    record["price"] = price
    record["fees"] = fees
    record["side"] = side


@njit(cache=True)
def _post_trade_value(
    value: float,
    current: np.ndarray,
    weights: np.ndarray,
    cols: np.ndarray,
    n_ordered: int,
    c_buy: float,
    c_sell: float,
) -> float:
    """The member's value after the row's trades, ``V'`` of the module docstring; NaN if none > 0.

    ``value``: before the trades; ``current``/``weights``: each column's position value and
    target weight, read at ``cols[:n_ordered]`` (the ordered columns); ``c_buy``/``c_sell``:
    cost per unit of value traded (fractions). Newton's method from ``value`` on the convex
    piecewise-linear ``g``: each step solves the linear equation of the current segment.
    """
    v = value
    for _ in range(2 * n_ordered + 4):  # at most one step per segment (n_ordered + 1 of them)
        num = value
        den = 1.0
        for q in range(n_ordered):
            col = cols[q]
            d = weights[col] * v - current[col]
            if d > 0:
                num += c_buy * current[col]
                den += c_buy * weights[col]
            elif d < 0:
                num -= c_sell * current[col]
                den -= c_sell * weights[col]
        if not den > 0:  # costs of 100% or more of the gross exposure: no solution
            return np.nan
        nxt = num / den
        if not nxt < v:  # the signs held: v is the root (steps only ever go down)
            break
        v = nxt
    return v if v > 0 else np.nan


@njit(cache=True)
def simulate_orders(
    close: np.ndarray, size: np.ndarray, group_len: int, fees: float, slippage: float
) -> np.ndarray:
    """The fee-neutral rule (module docstring): fill records of target-percent ``size``
    (n, columns; NaN = no order) at ``close`` (n, columns).

    Columns form groups of ``group_len`` consecutive columns that share one cash balance
    of 1.0 (a member); with ``group_len`` 1 every column is its own portfolio. After each
    row's fills every ordered column holds its target weight of the member's value at
    that close, costs included, unless the buys need more cash than there is (then
    every buy is scaled by the same factor).
    """
    n, columns = close.shape
    records = np.empty(n * columns, dtype=RECORD_DTYPE)
    position = np.zeros(columns)
    val_price = np.full(columns, np.nan)
    current = np.zeros(columns)
    delta = np.zeros(columns)
    need = np.zeros(columns)
    cols = np.empty(group_len, np.int64)
    c_buy = slippage + fees * (1 + slippage)
    c_sell = slippage + fees * (1 - slippage)
    oidx = np.int64(0)
    for from_col in range(0, columns, group_len):
        cash = 1.0
        for i in range(n):
            if _is_close(cash, 0.0):  # vectorbt's state cleaning, kept so one ticker's bits match
                cash = 0.0
            value = cash
            n_ordered = np.int64(0)
            for k in range(group_len):
                col = from_col + k
                price = close[i, col]  # price and valuation price: the close
                if not np.isnan(price):
                    val_price[col] = price
                if _is_close(position[col], 0.0):
                    position[col] = 0.0
                current[col] = 0.0
                if position[col] != 0:
                    current[col] = position[col] * val_price[col]
                    value += current[col]
                if not np.isnan(size[i, col]) and not np.isnan(price):
                    if not np.isfinite(price) or price <= 0:
                        raise ValueError("order.price must be finite and greater than 0")
                    cols[n_ordered] = col
                    n_ordered += 1
            if n_ordered == 0:
                continue
            if np.isnan(value) or _is_close(value, 0.0) or value < 0:
                continue  # nothing to trade with (vectorbt rejects the orders too)
            v = _post_trade_value(value, current, size[i], cols, n_ordered, c_buy, c_sell)
            if np.isnan(v):
                continue
            # target shares as vectorbt computes them (weight x value / price - held), at V'
            for q in range(n_ordered):
                col = cols[q]
                order_size = size[i, col] * v
                order_size /= val_price[col]
                delta[col] = order_size - position[col]
            for q in range(n_ordered):  # sells first: their proceeds pay for the buys
                col = cols[q]
                if delta[col] >= 0 or _is_close(delta[col], 0.0):
                    continue
                sold = -delta[col]
                adj_price = close[i, col] * (1 - slippage)
                acq_cash = sold * adj_price
                fees_paid = acq_cash * fees
                cash = cash + _add(acq_cash, -fees_paid)
                position[col] = _add(position[col], -sold)
                _record(records, oidx, col, i, sold, adj_price, fees_paid, np.int64(_SOLD))
                oidx += 1
            total = 0.0
            for q in range(n_ordered):
                col = cols[q]
                need[col] = 0.0
                if delta[col] > 0 and not _is_close(delta[col], 0.0):
                    req_cash = delta[col] * (close[i, col] * (1 + slippage))
                    need[col] = req_cash + req_cash * fees
                    total += need[col]
            if total == 0 or _is_close(cash, 0.0) or cash < 0:
                continue
            # the buys fit the cash (beyond float tolerance): each as solved; else each gets the
            # cash in proportion to its need (all in: the last ulp of rounding goes nowhere)
            scaled = not _is_less(total, cash)
            budget_all = cash
            for q in range(n_ordered):
                col = cols[q]
                if need[col] == 0:
                    continue
                adj_price = close[i, col] * (1 + slippage)
                if scaled:
                    budget = budget_all * (need[col] / total)
                    spend = budget / (1 + fees)
                    bought = spend / adj_price
                    fees_paid = budget - spend
                else:
                    budget = need[col]
                    bought = delta[col]
                    fees_paid = bought * adj_price * fees
                cash = _add(cash, -budget)
                position[col] = _add(position[col], bought)
                _record(records, oidx, col, i, bought, adj_price, fees_paid, np.int64(_BOUGHT))
                oidx += 1
    return records[:oidx]


@njit(cache=True)
def simulate_orders_sequential(
    close: np.ndarray, size: np.ndarray, group_len: int, fees: float, slippage: float
) -> np.ndarray:
    """The sequential rule (vectorbt's): fill records of target-percent ``size`` (n, columns;
    NaN = no order) at ``close`` (n, columns).

    Columns form groups of ``group_len`` consecutive columns that share one cash
    balance of 1.0 (orders sorted by approximate value each row: sells first);
    with ``group_len`` 1 every column is its own portfolio.
    """
    n, columns = close.shape
    records = np.empty(n * columns, dtype=RECORD_DTYPE)
    cash_sharing = group_len > 1
    last_position = np.zeros(columns)
    last_debt = np.zeros(columns)
    last_val_price = np.full(columns, np.nan)
    order_price = np.full(columns, np.nan)
    temp_order_value = np.empty(columns)
    call_seq = np.empty(group_len, np.int64)
    oidx = 0
    for from_col in range(0, columns, group_len):
        cash_now = 1.0
        free_cash_now = 1.0
        value_now = 1.0
        for i in range(n):
            for k in range(group_len):
                col = from_col + k
                price = close[i, col]  # price and valuation price: the close
                order_price[col] = price
                if not np.isnan(price):
                    last_val_price[col] = price
            if cash_sharing:
                value_now = cash_now
                for k in range(group_len):
                    col = from_col + k
                    if last_position[col] != 0:
                        value_now += last_position[col] * last_val_price[col]
                for k in range(group_len):
                    col = from_col + k
                    call_seq[k] = k
                    asset_value_now = last_position[col] * last_val_price[col]
                    temp_order_value[k] = size[i, col] * value_now - asset_value_now
                _insert_argsort(temp_order_value[:group_len], call_seq)
            for k in range(group_len):
                col = from_col + (call_seq[k] if cash_sharing else k)
                position_now = last_position[col]
                debt_now = last_debt[col]
                val_price_now = last_val_price[col]
                if not cash_sharing:
                    value_now = cash_now
                    if position_now != 0:
                        value_now += position_now * val_price_now
                status, cash_new, position_new, debt_new, free_new, f_size, f_price, f_fees = _execute(
                    cash_now,
                    position_now,
                    debt_now,
                    free_cash_now,
                    val_price_now,
                    value_now,
                    size[i, col],
                    order_price[col],
                    fees,
                    slippage,
                )
                if status <= _SOLD:  # bought or sold
                    _record(records, oidx, col, i, f_size, f_price, f_fees, status)
                    oidx += 1
                # execute_order_nb cleans near-zero state even when nothing fills
                cash_now, free_cash_now = cash_new, free_new
                last_position[col] = position_new
                last_debt[col] = debt_new
    return records[:oidx]


def warm_up() -> None:
    """Compile (or load from numba's disk cache) :func:`simulate_orders` (the default rule) on a tiny book.

    The argument types are those :func:`engine.simulate.simulate` passes (C-contiguous
    float64 arrays, a Python int, two floats), so a run's simulation finds the one
    specialization ready; :func:`engine.prepare.prepare` runs this in a background
    thread while the data loads and the strategies decide.
    """
    close = np.ones((2, 2))
    size = np.full((2, 2), 0.5)
    simulate_orders(close, size, 2, 0.001, 0.0)
