"""vectorbt itself in place of the ported fill kernel, for tests (issue 24: test hooks live in tests).

:func:`simulate_with` runs :func:`engine.pipeline.simulate.simulate` unchanged except for the
seams named: ``fills=vectorbt_fills`` puts vectorbt's ``Portfolio.from_orders`` where the kernel
was (compare with ``Costs(fills="sequential")``, the rule vectorbt implements), ``dense=True``
simulates every row instead of only the rows with orders.
"""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import numpy as np

import engine.pipeline.simulate as sim_module
from engine.pipeline.simulate import Costs, Simulation


def vectorbt_fills(close: np.ndarray, orders: np.ndarray, costs: Costs, k: int) -> np.ndarray:
    """vectorbt's own fill records for (rows, members x k) closes and target weights."""
    import pandas as pd
    import vectorbt as vbt

    m = close.shape[1] // k
    grouped = k > 1
    index = pd.date_range("2000-01-03", periods=len(close), freq="D")  # vectorbt needs an index only
    pf = vbt.Portfolio.from_orders(
        pd.DataFrame(close, index=index),
        size=orders,
        size_type="targetpercent",
        fees=costs.fee_bps / 1e4,
        slippage=costs.slippage_bps / 1e4,
        init_cash=1.0,
        min_size=0.0,
        freq="1D",
        group_by=np.repeat(np.arange(m), k) if grouped else None,
        cash_sharing=grouped,
        call_seq="auto" if grouped else None,
        ffill_val_price=True,
    )
    return pf.order_records


def _every_row(orders: np.ndarray) -> np.ndarray:
    return np.arange(len(orders))


def simulate_with(
    *args: object,
    fills: Callable[[np.ndarray, np.ndarray, Costs, int], np.ndarray] | None = None,
    dense: bool = False,
) -> Simulation:
    """``simulate(*args)`` with vectorbt's fills (``fills=vectorbt_fills``) and/or every row simulated."""
    with (
        mock.patch.object(sim_module, "_fill", fills or sim_module._fill),
        mock.patch.object(sim_module, "_order_rows", _every_row if dense else sim_module._order_rows),
    ):
        return sim_module.simulate(*args)  # type: ignore[arg-type]
