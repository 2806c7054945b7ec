"""Order execution at the close: vectorbt's ``Portfolio.from_orders`` for our one use, without vectorbt.

Why: importing vectorbt costs about 4 s of every command (it imports scipy,
scikit-learn, plotly and more at package import), more than the whole rest of a
``backtest run``. We call it in one configuration only (target-percent orders at
the close, fees and slippage in fractions, cash 1.0, sells first inside a
member, no fixed fees, no size limits), so this module is a line-by-line port of
the numba functions vectorbt runs for it (``simulate_from_orders_nb``,
``execute_order_nb``, ``buy_nb``, ``sell_nb``, ``approx_order_value_nb``,
``insert_argsort_nb`` and the tolerant float helpers of ``vectorbt.utils.math_``,
vectorbt 1.2), keeping their operations in the same order, so the fills are the
same bits. ``tests/engine/pipeline/test_fills.py`` checks them against vectorbt itself on
random orders (long, short, leveraged, NaN prices, several members and tickers).

Output: fill records as vectorbt's ``order_records`` (fields ``idx``, ``col``,
``size``, ``price``, ``fees``, ``side``: 0 buy, 1 sell).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np


def njit(cache: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """numba.njit with an on-disk cache; without one where no cache dir is writable
    (numba tries beside this file, then the user's cache dir, or NUMBA_CACHE_DIR)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return numba.njit(cache=cache)(fn)
        except RuntimeError:
            return numba.njit(cache=False)(fn)

    return wrap


RECORD_DTYPE = np.dtype(
    [("id", np.int64), ("col", np.int64), ("idx", np.int64), ("size", np.float64), ("price", np.float64),
     ("fees", np.float64), ("side", np.int64)]
)  # fmt: skip
REL_TOL = 1e-9  # vectorbt.utils.math_
ABS_TOL = 1e-12
_BOUGHT, _SOLD, _IGNORED, _REJECTED = 0, 1, 2, 3  # statuses; a fill's side is 0 buy, 1 sell


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
    if _is_close(adj_size, 0):
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
    if _is_close(size_limit, 0):
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
    if _is_close(cash, 0):
        cash = 0.0
    if _is_close(position, 0):
        position = 0.0
    if _is_close(debt, 0):
        debt = 0.0
    if _is_close(free_cash, 0):
        free_cash = 0.0
    if _is_close(val_price, 0):
        val_price = 0.0
    if _is_close(value, 0):
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
def simulate_orders(
    close: np.ndarray, size: np.ndarray, group_len: int, fees: float, slippage: float
) -> np.ndarray:
    """Fill records of target-percent ``size`` (n, columns; NaN = no order) at ``close`` (n, columns).

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
                    record = records[oidx]
                    record["id"] = oidx
                    record["col"] = col
                    record["idx"] = i
                    record["size"] = f_size
                    record["price"] = f_price
                    record["fees"] = f_fees
                    record["side"] = status
                    oidx += 1
                # execute_order_nb cleans near-zero state even when nothing fills
                cash_now, free_cash_now = cash_new, free_new
                last_position[col] = position_new
                last_debt[col] = debt_new
    return records[:oidx]


def warm_up() -> None:
    """Compile (or load from numba's disk cache) :func:`simulate_orders` on a tiny book.

    The argument types are those :func:`engine.simulate.simulate` passes (C-contiguous
    float64 arrays, a Python int, two floats), so a run's simulation finds the one
    specialization ready; :func:`engine.prepare.prepare` runs this in a background
    thread while the data loads and the strategies decide.
    """
    close = np.ones((2, 2))
    size = np.full((2, 2), 0.5)
    simulate_orders(close, size, 2, 0.001, 0.0)
