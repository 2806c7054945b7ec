"""The timing convention, written once. Everything else imports it.

::

      close t-1            close t               close t+1            close t+2
   ------+--------------------+---------------------+--------------------+---->
         |   delta[t] known   |  decide w[t]        |                    |
         |   at close t       |  (uses rows <= t)   |                    |
         |                    |  fill at close t    |  earn delta[t+1]   |  earn delta[t+2] ...
         |                    |  (lag 0, market-on- |  with w[t]         |  until the next
         |                    |   close), pay costs |                    |  decision

- Decision time of day t is its close: 16:00 America/New_York
  (:data:`feeds.calendar.DECISION_TIME`), 13:00 on the NYSE's early-close days
  (:func:`feeds.exchange_calendar.session_closes`). Weights decided then may use prices up to
  and including close t, and nothing later.
- Weights decided at t are held over (t, next decision] and earn the deltas of the
  following days. A NaN row means no decision: positions are held and drift with
  prices (no rebalancing, no cost).
- Execution lag L (default 0): the order for a decision at t fills at the close of
  row t+L. L = 1 is the stricter assumption (you learn the close, then trade the
  next close). Costs are charged on the traded value at the fill, shared by the
  day's orders in proportion to their size (fee-neutral fills: after costs each
  ticker holds its target weight; :mod:`engine.pipeline.fills`).
- No trade on the data's last row: an order whose fill falls on the last row
  (a decision at the last close with lag 0, an annual rebalance at the last year
  end in the data, a decision L rows before the end with lag L) would trade into a
  holding period the data do not contain and pay costs for it, so it is not
  executed (:func:`executable_orders`); the last row shows the positions held until
  then. The decision itself is kept with the run's weights (it is tomorrow's
  signal, ``backtest signal``); a run continued over new days (``backtest update``)
  executes it, as a run over the longer data in one go does.
- Rebalancing is daily (a decision may come at every close) or annual (decisions
  only at the last close of each calendar year, held through the next year).
- The trading period of a run starts at the first day on which every compared
  strategy (and the benchmark) has made a decision, so all start on the same close
  with the targets in force then; it ends at the last row of the data.
"""

from __future__ import annotations

import numpy as np

__all__ = ["executable_orders", "first_decision", "is_decision_row", "orders_for_period"]


def is_decision_row(targets: np.ndarray) -> np.ndarray:
    """Bool (n_days, n_members): rows that carry a decision (not all NaN).

    ``targets``: shape (n_days, n_members, n_tickers), NaN rows = hold.
    """
    return ~np.all(np.isnan(targets), axis=2)


def first_decision(targets: np.ndarray) -> int | None:
    """Index of the first row on which every member has decided (None if never)."""
    decided = np.maximum.accumulate(is_decision_row(targets), axis=0).all(axis=1)
    hits = np.flatnonzero(decided)
    return int(hits[0]) if hits.size else None


def orders_for_period(targets: np.ndarray, start: int, lag: int = 0) -> np.ndarray:
    """Orders to execute over the trading period ``[start, n_days)``.

    ``targets``: (n_days, n_members, n_tickers), NaN rows = hold. Returns
    (n_days - start, n_members, n_tickers): row 0 holds the targets in force at
    ``start`` (each member's last decision at or before it), later rows the
    decisions as made; everything is then delayed by ``lag`` rows (orders in the
    first ``lag`` rows are NaN: the portfolio is still in cash).
    """
    decided = is_decision_row(targets[: start + 1])
    orders = targets[start:].copy()
    for member in range(targets.shape[1]):
        rows = np.flatnonzero(decided[:, member])
        if rows.size == 0:
            raise ValueError(f"member {member} has no decision at or before row {start}")
        orders[0, member] = targets[rows[-1], member]
    if lag:
        delayed = np.full_like(orders, np.nan)
        delayed[lag:] = orders[:-lag] if lag < len(orders) else delayed[lag:]
        orders = delayed
    return orders


def executable_orders(orders: np.ndarray) -> np.ndarray:
    """The orders that execute: ``orders`` (n_days, n_members, n_tickers) of a trading period
    that ends on the data's last row, with that row's orders removed (NaN = none).

    See the module docstring (no trade on the last row). Returns a copy when it changes anything.
    """
    if len(orders) == 0 or np.isnan(orders[-1]).all():
        return orders
    executable = orders.copy()
    executable[-1] = np.nan
    return executable
