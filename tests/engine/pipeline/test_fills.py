"""The ported sequential order execution against vectorbt itself: the same fills, bit for bit.

vectorbt implements the sequential rule (``Costs(fills="sequential")``); the default fee-neutral
rule is checked in tests/engine/test_equal_weight.py and test_simulate.py. Both paths go through
the same ``simulate`` (row compression, cash numeraire, no trade on the last row), vectorbt put in
the kernel's place by tests/engine/pipeline/vbt_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.simulate import Costs, simulate
from tests.conftest import business_days
from tests.engine.pipeline.vbt_reference import simulate_with, vectorbt_fills


def random_case(seed: int, n: int, m: int, k: int, short: bool, leverage: float):
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, size=(n, k)), axis=0))
    if k > 1:
        close[: n // 5, 0] = np.nan  # a ticker that starts later
        close[-n // 6 :, -1] = np.nan  # and one that stops early
    raw = rng.random((n, m, k)) - (0.4 if short else 0.0)
    weights = raw / np.abs(raw).sum(axis=2, keepdims=True) * leverage
    weights[rng.random(n) < 0.3] = np.nan  # hold rows
    weights[rng.random((n, m)) < 0.1] = np.nan  # members deciding on different days
    weights[np.isnan(close)[:, None, :].repeat(m, axis=1) & ~np.isnan(weights)] = 0.0
    return close, weights


@pytest.mark.parametrize(
    "seed,m,k,short,leverage,fee,slip",
    [
        (0, 1, 1, False, 1.0, 5.0, 0.0),
        (1, 3, 1, True, 1.0, 25.0, 10.0),
        (2, 2, 4, False, 1.0, 5.0, 0.0),
        (3, 2, 5, True, 1.5, 10.0, 5.0),
        (4, 1, 3, False, 2.0, 0.0, 0.0),
    ],
)
def test_fills_equal_vectorbt_bit_for_bit(seed, m, k, short, leverage, fee, slip):
    close, orders = random_case(seed, 300, m, k, short, leverage)
    dates = business_days("2020-01-01", len(close))
    costs = Costs(fee, slip, fills="sequential")
    ours = simulate(close, orders.copy(), dates, costs)
    theirs = simulate_with(close, orders.copy(), dates, costs, fills=vectorbt_fills)
    for field in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders"):
        assert np.array_equal(getattr(ours, field), getattr(theirs, field), equal_nan=True), field


@pytest.mark.parametrize("seed,m,k,leverage", [(5, 2, 1, 1.0), (6, 2, 4, 1.5)])
def test_fills_with_cash_interest_equal_vectorbt(seed, m, k, leverage):
    # cash interest is a change of numeraire applied before either path (engine.pipeline.simulate)
    close, orders = random_case(seed, 250, m, k, True, leverage)
    dates = business_days("2020-01-01", len(close))
    growth = np.cumprod(np.full(len(close), 1.0001))
    growth /= growth[0]
    costs = Costs(5.0, 2.0, fills="sequential")
    ours = simulate(close, orders.copy(), dates, costs, growth)
    theirs = simulate_with(close, orders.copy(), dates, costs, growth, fills=vectorbt_fills)
    for field in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders"):
        assert np.array_equal(getattr(ours, field), getattr(theirs, field), equal_nan=True), field


def test_warm_up_compiles_the_one_specialization_a_simulation_calls():
    from engine.pipeline import fills

    fills.warm_up()
    close, orders = random_case(7, 60, 2, 3, False, 1.0)
    simulate(close, orders, business_days("2020-01-01", len(close)), Costs(5, 0))  # int costs too
    close, orders = random_case(8, 60, 1, 1, False, 1.0)
    simulate(close, orders, business_days("2020-01-01", len(close)), Costs(5.0, 1.0))
    assert len(fills.simulate_orders.signatures) == 1


@pytest.mark.parametrize(
    "seed,m,k,short,leverage,fee,slip",
    [(2, 2, 4, False, 1.0, 5.0, 0.0), (1, 3, 1, True, 1.0, 25.0, 10.0), (3, 2, 5, True, 1.5, 10.0, 5.0)],
)
@pytest.mark.parametrize("rule", ["simulate_orders", "simulate_orders_sequential"])
def test_interpreted_kernels_fill_the_same_bits_as_compiled(rule, seed, m, k, short, leverage, fee, slip):
    # a small book in a process without numba runs the kernels as plain Python (fills.interpret)
    from engine.pipeline import fills

    close, orders = random_case(seed, 200, m, k, short, leverage)
    close = np.ascontiguousarray(np.repeat(close, m, axis=1))  # (rows, members x k), as simulate passes
    size = np.ascontiguousarray(orders.reshape(len(orders), m * k))
    kernel = getattr(fills, rule)
    compiled = kernel(close, size, k, fee / 1e4, slip / 1e4)
    interpreted = kernel.interpreted(close, size, k, fee / 1e4, slip / 1e4)
    assert len(compiled) > 10
    assert compiled.tobytes() == interpreted.tobytes()


def test_a_small_book_without_numba_is_interpreted_a_big_one_compiled():
    from engine.pipeline import fills

    assert not fills.interpret(fills.SMALL_BOOK + 1)
    assert fills.interpret(fills.SMALL_BOOK) == ("numba" not in __import__("sys").modules)
