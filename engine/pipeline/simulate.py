"""Portfolio simulation: target weights filled at the close (:mod:`engine.pipeline.fills`), thinly wrapped.

Array conventions: ``close`` has shape (n_days, n_tickers), adjusted closes (NaN
= no bar; positions are valued at the last known close). ``orders`` has shape
(n_days, n_members, n_tickers): row t holds target weights (fractions of the
member's portfolio value) to trade to at the close of row t, NaN = no order. Each
member is one portfolio with its own cash, starting with 1.0 in cash before row
0; within a member, tickers share that cash (sells are executed before buys).
A ticker whose prices end before the last row is sold (target 0) at its last
close in every member. Orders on the last row are not executed
(:func:`engine.pipeline.timing.executable_orders`): they would trade into a holding
period the data do not contain; the last row shows the positions held.

Costs: ``fee_bps`` is charged on the traded value (bps of |shares x fill price|);
``slippage_bps`` moves each fill price against the trade. Fills are fee-neutral by
default: a row's costs are shared by its orders in proportion to their size, so
after costs every ordered ticker holds exactly its target weight of the value after
the trades (equal weights stay equal; "100% invested" in k tickers from cash with
5 bps costs holds 1/(1+0.0005)/k of the starting value in each). Buys cannot spend
cash that is not there: when they need more, each is scaled by the same factor.
``Costs(fills="sequential")`` is vectorbt's rule instead (each order sized from the
value before the row's trades, filled one after another, the last buy absorbing the
row's costs); :mod:`engine.pipeline.fills` states both.

Cash interest: ``cash_growth`` (shape (n_days,), 1.0 on row 0) is the value at
each close of 1.0 held in cash from row 0's close (:mod:`feeds.cash`). The fill
kernels (like vectorbt's) have no interest on cash, so the simulation runs in units of
that cash account (a change of numeraire): prices are divided by
``cash_growth``, cash then earns nothing, and every value is multiplied back.
This is exact, not an approximation: target weights, fees (bps of traded value)
and slippage (bps of price) are all proportional, so they are the same in either
unit, and cash compounds at the rate between every pair of closes. Negative cash
(leverage, short proceeds spent) pays the same rate. Treating cash as a synthetic
asset instead would charge fees on it and make every order rebalance it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.pipeline.timing import executable_orders

FillRule = Literal["fee-neutral", "sequential"]


@dataclass(frozen=True)
class Costs:
    """Trading costs. ``fee_bps``: bps of traded value, on by default. ``slippage_bps``: bps of price.

    ``fills``: how a row's costs are shared by its orders: ``fee-neutral`` (default: in
    proportion, every target weight met after costs) or ``sequential`` (vectorbt's rule, kept
    for comparison with vectorbt and other libraries that use it); :mod:`engine.pipeline.fills`.
    """

    fee_bps: float = 5.0
    slippage_bps: float = 0.0
    fills: FillRule = "fee-neutral"

    def __post_init__(self) -> None:
        if self.fills not in ("fee-neutral", "sequential"):
            raise ValueError(f"fills must be 'fee-neutral' or 'sequential', not {self.fills!r}")


@dataclass(frozen=True)
class Simulation:
    """What a simulation produced; arrays have shape (n_days, n_members) unless noted."""

    equity: np.ndarray  # portfolio value at each close, after that close's trades
    exposure: np.ndarray  # gross exposure: sum |position value| / equity, after trades
    position_pnl: np.ndarray  # P&L of the positions held since the previous close (0 on row 0)
    traded_value: np.ndarray  # sum of |shares x fill price| traded at each close
    fees: np.ndarray  # costs paid at each close
    n_orders: np.ndarray  # shape (n_members,): number of fills


# Members are independent portfolios, so they are simulated in chunks of at most this many
# (day x column) cells: memory stays at a few arrays of that size (about 64 MB each) however
# many members and tickers a run has (500 tickers x 30 years x 11 members would otherwise hold
# a dozen 330 MB arrays at once), and the bits do not change (each member's own arithmetic).
CHUNK_CELLS = 8_000_000


def simulate(
    close: np.ndarray,
    orders: np.ndarray,
    dates: np.ndarray,
    costs: Costs,
    cash_growth: np.ndarray | None = None,
) -> Simulation:
    """Simulate target-weight orders for every member; see the module docstring.

    ``close`` (n_days, n_tickers) and ``orders`` (n_days, n_members, n_tickers) cover the
    trading period, whose last row is the data's last row (its orders do not execute).
    ``cash_growth`` (n_days,): what cash earns, None for nothing. Fills come from
    :mod:`engine.pipeline.fills` under ``costs.fills``.
    """
    n, m, k = orders.shape
    if close.shape != (n, k):
        raise ValueError(f"close {close.shape} does not match orders {orders.shape}")
    orders = executable_orders(orders)
    per = max(1, CHUNK_CELLS // max(1, n * k))
    parts = [
        _simulate_members(close, orders[:, lo : lo + per], dates, costs, cash_growth)
        for lo in range(0, m, per)
    ]
    if len(parts) == 1:
        return parts[0]
    return Simulation(
        **{
            name: np.concatenate([getattr(p, name) for p in parts], axis=-1)
            for name in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders")
        }
    )


def _simulate_members(
    close: np.ndarray,
    orders: np.ndarray,
    dates: np.ndarray,
    costs: Costs,
    cash_growth: np.ndarray | None,
) -> Simulation:
    """:func:`simulate` for a chunk of members in one call of the order execution."""
    n, m, k = orders.shape
    no_price = np.isnan(close)
    if no_price.any():
        bad = no_price[:, None, :] & ~np.isnan(orders) & (orders != 0)
        if bad.any():
            t, _, j = np.argwhere(bad)[0]
            raise ValueError(f"a non-zero target on day {dates[t]} for ticker column {j}, which has no price")
        orders = np.where(no_price[:, None, :], np.nan, orders)
        # A ticker that stops trading before the data end is sold at its last close
        # (delisting, merger): its value goes to cash instead of freezing in place.
        last = n - 1 - np.argmax(~no_price[::-1], axis=0)
        for j in np.flatnonzero((last < n - 1) & ~no_price.all(axis=0)):
            orders[last[j], :, j] = 0.0

    columns = m * k
    close_cols = np.tile(close, (1, m)) if m > 1 else close
    # In cash-account units a stale (forward-filled) price must still be divided by
    # today's cash growth, so fill before dividing; orders on rows without a bar are
    # NaN above, so nothing trades at a filled price.
    priced = close_cols if cash_growth is None else _ffill(close_cols) / cash_growth[:, None]
    # Only rows with an order change cash or shares, so the execution sees just those (an
    # annual strategy: ~30 rows instead of ~7,500; daily re-targeting: all). Between them
    # nothing happens, and a position is valued at its last known close (vectorbt's
    # ffill_val_price), so the kept rows get forward-filled closes: the same state at every
    # kept row, the same fills; the curves are then rebuilt for every day (_from_fills).
    rows = _order_rows(orders)
    dense = rows.size == n
    sim_close = priced if dense else _ffill(priced)[rows]
    sim_orders = orders.reshape(n, columns) if dense else orders[rows].reshape(len(rows), columns)
    records = _fill(sim_close, sim_orders, costs, k)
    if not dense:
        records = records.copy()
        records["idx"] = rows[records["idx"]]
    return _from_fills(records, close_cols, n, m, k, cash_growth)


def _order_rows(orders: np.ndarray) -> np.ndarray:
    """Indices of the rows with an order (at least one, so an empty book still has a first row)."""
    rows = np.flatnonzero(~np.isnan(orders).all(axis=(1, 2)))
    return rows if rows.size else np.zeros(1, dtype=np.int64)


def _fill(close: np.ndarray, orders: np.ndarray, costs: Costs, k: int) -> np.ndarray:
    """Fill records for (rows, members x k) closes and target weights, members of ``k`` tickers."""
    from engine.pipeline.fills import interpret, simulate_orders, simulate_orders_sequential

    kernel = simulate_orders if costs.fills == "fee-neutral" else simulate_orders_sequential
    # a small book in a process without numba runs the same kernel as plain Python: quicker than
    # loading numba for it, and the same bits (engine.pipeline.fills.SMALL_BOOK)
    call = kernel.interpreted if interpret(close.size) else kernel
    # writable C arrays always: numba compiles one specialization per readonly flag too
    return call(
        np.require(close, dtype=np.float64, requirements=("C", "W")),
        np.require(orders, dtype=np.float64, requirements=("C", "W")),
        k,
        costs.fee_bps / 1e4,
        costs.slippage_bps / 1e4,
    )


def _from_fills(
    records: np.ndarray,
    close_cols: np.ndarray,
    n: int,
    m: int,
    k: int,
    cash_growth: np.ndarray | None = None,
) -> Simulation:
    """Curves from the fill records (shares, fill price, fees per day and column).

    Equity is cash plus shares valued at the last known close, as vectorbt's
    ``Portfolio.value()`` computes it (tests check the two agree); deriving it here
    with one ``bincount`` per quantity is several times faster on many columns.
    With ``cash_growth`` the records are in cash-account units (see the module
    docstring): cash, fees and traded values are turned back into money at their
    close; positions are valued at the money closes ``close_cols``.
    """
    columns = m * k
    cell = records["idx"] * columns + records["col"]
    signed = np.where(records["side"] == 0, records["size"], -records["size"])  # side 0 = buy

    def per_cell(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values, minlength=n * columns).reshape(n, columns)

    def per_member(a: np.ndarray) -> np.ndarray:
        return a.reshape(n, m, k).sum(axis=2) if k > 1 else a

    shares = np.cumsum(per_cell(signed), axis=0)  # held after each close's trades
    fees = per_cell(records["fees"])
    traded = per_cell(np.abs(records["size"] * records["price"]))
    cash = 1.0 + np.cumsum(per_member(per_cell(-signed * records["price"]) - fees), axis=0)
    if cash_growth is not None:
        fees, traded = fees * cash_growth[:, None], traded * cash_growth[:, None]
        cash = cash * cash_growth[:, None]
    valued = _ffill(close_cols)
    position_value = np.nan_to_num(shares * valued)
    equity = cash + per_member(position_value)
    move = np.zeros_like(valued)
    move[1:] = np.nan_to_num(valued[1:] - valued[:-1])
    pnl = np.zeros_like(valued)
    pnl[1:] = shares[:-1] * move[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        exposure = per_member(np.abs(position_value)) / equity
    return Simulation(
        equity=equity,
        exposure=exposure,
        position_pnl=per_member(pnl),
        traded_value=per_member(traded),
        fees=per_member(fees),
        n_orders=np.bincount(records["col"] // k, minlength=m),
    )


def _ffill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN down the rows (positions are valued at the last known close)."""
    if not np.isnan(values).any():
        return values
    rows = np.where(np.isnan(values), 0, np.arange(len(values))[:, None])
    np.maximum.accumulate(rows, axis=0, out=rows)
    return np.take_along_axis(values, rows, axis=0)
