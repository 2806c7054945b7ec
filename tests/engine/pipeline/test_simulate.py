"""Simulation and costs against a plain-Python reference simulator (fee-neutral fills), to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.simulate import Costs, simulate
from engine.pipeline.timing import orders_for_period
from tests.conftest import business_days
from tests.engine import reference
from tests.engine.pipeline.vbt_reference import simulate_with, vectorbt_fills

TOL = 1e-9


def prices(n=120, k=1, seed=1):
    rng = np.random.default_rng(seed)
    return 50.0 * np.exp(np.cumsum(rng.normal(0.0005, 0.02, size=(n, k)), axis=0))


def to_rows(orders):
    """(n, 1, k) orders -> reference rows (None = hold)."""
    return [None if np.isnan(row).all() else list(row) for row in orders[:, 0, :]]


@pytest.mark.parametrize("fee_bps,slippage_bps", [(0.0, 0.0), (5.0, 0.0), (25.0, 10.0)])
def test_single_asset_switching_with_costs(fee_bps, slippage_bps):
    close = prices()
    n = len(close)
    signal = (np.sin(np.arange(n) / 6.0) > 0).astype(float)
    orders = signal[:, None, None]
    sim = simulate(close, orders, business_days("2020-01-01", n), Costs(fee_bps, slippage_bps))
    equity, fills, fees = reference.simulate(
        close.tolist(), to_rows(orders), fee_bps / 1e4, slippage_bps / 1e4
    )
    np.testing.assert_allclose(sim.equity[:, 0], equity, rtol=0, atol=TOL)
    assert sim.n_orders[0] == fills
    assert abs(sim.fees.sum() - fees) < TOL


def test_cost_of_one_round_trip_is_exact():
    close = np.full((5, 1), 100.0)  # flat prices: only costs move equity
    orders = np.array([1.0, np.nan, 0.0, np.nan, np.nan])[:, None, None]
    sim = simulate(close, orders, business_days("2020-01-01", 5), Costs(10.0))
    f = 10.0 / 1e4
    bought = 1.0 / (1 + f)  # value in the asset after paying the fee out of the cash
    after_sell = bought * (1 - f)
    np.testing.assert_allclose(
        sim.equity[:, 0], [bought, bought, after_sell, after_sell, after_sell], rtol=0, atol=1e-15
    )


def test_multi_asset_daily_rebalancing_and_hold_rows():
    close = prices(k=3, seed=4)
    n = len(close)
    rng = np.random.default_rng(2)
    raw = rng.random((n, 3))
    weights = raw / raw.sum(axis=1, keepdims=True) * 0.9
    weights[rng.random(n) < 0.4] = np.nan  # hold on some days
    weights[0] = [0.3, 0.3, 0.3]
    orders = weights[:, None, :]
    sim = simulate(close, orders, business_days("2020-01-01", n), Costs(5.0))
    equity, fills, _ = reference.simulate(close.tolist(), to_rows(orders), 5e-4)
    np.testing.assert_allclose(sim.equity[:, 0], equity, rtol=0, atol=TOL)
    assert sim.n_orders[0] == fills


def test_members_are_independent_portfolios():
    close = prices(k=2, seed=3)
    n = len(close)
    a = np.tile([0.5, 0.5], (n, 1))
    b = np.full((n, 2), np.nan)
    b[0] = [1.0, 0.0]
    orders = np.stack([a, b], axis=1)
    sim = simulate(close, orders, business_days("2020-01-01", n), Costs(5.0))
    for member, w in enumerate((a, b)):
        equity, _, _ = reference.simulate(close.tolist(), to_rows(w[:, None, :]), 5e-4)
        np.testing.assert_allclose(sim.equity[:, member], equity, rtol=0, atol=TOL)


def test_short_positions():
    close = prices(seed=7)
    n = len(close)
    signal = np.where(np.arange(n) % 20 < 10, 1.0, -1.0)[:, None, None]
    sim = simulate(close, signal, business_days("2020-01-01", n), Costs(5.0))
    equity, _, _ = reference.simulate(close.tolist(), to_rows(signal), 5e-4)
    np.testing.assert_allclose(sim.equity[:, 0], equity, rtol=0, atol=TOL)


def test_execution_lag_delays_fills_by_one_close():
    close = prices(n=30)
    targets = np.full((30, 1, 1), np.nan)
    targets[5, 0, 0] = 1.0
    targets[15, 0, 0] = 0.0
    orders = orders_for_period(targets, 5, lag=1)
    assert np.isnan(orders[0]).all() and orders[1, 0, 0] == 1.0 and orders[11, 0, 0] == 0.0
    sim = simulate(close[5:], orders, business_days("2020-01-01", 25), Costs(0.0))
    assert sim.equity[0, 0] == 1.0  # still cash at the deciding close
    assert abs(sim.equity[-1, 0] - close[16, 0] / close[6, 0]) < TOL


def test_buy_and_hold_without_costs_is_the_price_ratio():
    close = prices(n=250)
    orders = np.full((250, 1, 1), np.nan)
    orders[0] = 1.0
    sim = simulate(close, orders, business_days("2020-01-01", 250), Costs(0.0))
    np.testing.assert_allclose(sim.equity[:, 0], close[:, 0] / close[0, 0], rtol=1e-12)


def test_curves_agree_with_vectorbt_value():
    """Equity derived from the fills equals vectorbt's own Portfolio.value() (its sequential rule)."""
    import pandas as pd
    import vectorbt as vbt

    close = prices(n=200, k=2, seed=11)
    close[:20, 1] = np.nan  # a late starter
    rng = np.random.default_rng(0)
    w = rng.random((200, 2, 2)) / 2
    w[:20, :, 1] = 0.0
    w[rng.random(200) < 0.5] = np.nan
    w[-1] = np.nan  # vectorbt would trade on the last row; the engine does not (tested elsewhere)
    dates = business_days("2020-01-01", 200)
    sim = simulate(close, w, dates, Costs(7.0, 3.0, fills="sequential"))
    pf = vbt.Portfolio.from_orders(
        pd.DataFrame(np.tile(close, (1, 2)), index=pd.DatetimeIndex(dates.astype("datetime64[ns]"))),
        size=np.where(np.isnan(np.tile(close, (1, 2))), np.nan, w.reshape(200, 4)),
        size_type="targetpercent",
        fees=7e-4,
        slippage=3e-4,
        init_cash=1.0,
        min_size=0.0,
        freq="1D",
        group_by=[0, 0, 1, 1],
        cash_sharing=True,
        call_seq="auto",
    )
    np.testing.assert_allclose(sim.equity, pf.value().to_numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fee_bps,slippage_bps", [(0.0, 0.0), (5.0, 0.0), (25.0, 10.0)])
def test_cash_interest_against_the_reference(fee_bps, slippage_bps):
    """Uninvested cash compounds between closes; leverage (negative cash) pays the same rate."""
    from feeds.cash import CashRate

    close = prices(k=2, seed=7)
    n = len(close)
    dates = business_days("2020-01-01", n)
    signal = np.sin(np.arange(n) / 5.0)
    weights = np.column_stack([np.clip(signal, 0, None), np.clip(-signal, 0, None) * 0.5 + 0.2])
    weights[n // 2 : n // 2 + 10] = [0.9, 0.6]  # 150% invested: cash below zero
    orders = weights[:, None, :]
    growth = CashRate.parse(0.04).growth(dates)
    sim = simulate(close, orders, dates, Costs(fee_bps, slippage_bps), growth)
    equity, _, fees = reference.simulate(
        close.tolist(), to_rows(orders), fee_bps / 1e4, slippage_bps / 1e4, growth.tolist()
    )
    np.testing.assert_allclose(sim.equity[:, 0], equity, rtol=0, atol=TOL)
    assert abs(sim.fees.sum() - fees) < TOL
    flat = simulate(close, np.zeros_like(orders), dates, Costs(fee_bps, slippage_bps), growth)
    np.testing.assert_allclose(flat.equity[:, 0], growth, rtol=1e-14)  # never invested: cash alone


def test_cash_interest_with_a_held_ticker_missing_bars():
    """During a gap the stale price is valued in money, and the other ticker rebalances around it."""
    from feeds.cash import CashRate

    close = prices(n=60, k=2, seed=9)
    close[20:24, 1] = np.nan  # no bars for 4 days while held
    n = len(close)
    dates = business_days("2020-01-01", n)
    weights = np.tile([0.3, 0.4], (n, 1))
    weights[20:24, 1] = np.nan
    orders = weights[:, None, :]
    growth = CashRate.parse(0.05).growth(dates)
    sim = simulate(close, orders, dates, Costs(5.0), growth)
    rows = [None if np.isnan(r).all() else [float(x) for x in r] for r in orders[:, 0, :]]
    equity, _, _ = reference.simulate(close.tolist(), rows, 5e-4, 0.0, growth.tolist())
    np.testing.assert_allclose(sim.equity[:, 0], equity, rtol=0, atol=TOL)


def test_members_simulated_in_chunks_give_the_same_bits(monkeypatch):
    """Large runs simulate a few members per call (memory); the curves must not change."""
    import engine.pipeline.simulate as sim_module

    close = prices(n=80, k=3, seed=4)
    close[:10, 2] = np.nan  # lists late
    close[60:, 1] = np.nan  # delists: sold at its last close
    rng = np.random.default_rng(2)
    orders = rng.dirichlet(np.ones(3), size=(80, 5)) * 0.9
    orders[:, :, 2] = np.where(np.isnan(close[:, 2])[:, None], 0.0, orders[:, :, 2])
    orders[60:, :, 1] = 0.0
    orders[::3] = np.nan
    dates = business_days("2020-01-01", 80)
    whole = simulate(close, orders, dates, Costs(5.0, 2.0))
    monkeypatch.setattr(sim_module, "CHUNK_CELLS", 80 * 3 * 2)  # two members per call
    chunked = simulate(close, orders, dates, Costs(5.0, 2.0))
    for name in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name


@pytest.mark.parametrize(
    "fee_bps,slippage_bps,interest,fills,vectorbt",
    [
        (5.0, 0.0, False, "fee-neutral", False),
        (10.0, 3.0, False, "fee-neutral", False),
        (5.0, 2.0, True, "fee-neutral", False),
        (10.0, 3.0, False, "sequential", False),
        (5.0, 2.0, True, "sequential", True),
    ],
)
def test_simulating_only_rows_with_orders_gives_the_same_bits(
    fee_bps, slippage_bps, interest, fills, vectorbt
):
    """Rows without any order are skipped by the fill kernel (annual runs); nothing may change, also
    with price gaps (a held ticker without a bar on a rebalancing day), late listings and delistings;
    the same for vectorbt itself in the kernel's place."""
    n = 300
    close = prices(n=n, k=4, seed=7)
    close[:40, 3] = np.nan  # lists late
    close[250:, 2] = np.nan  # delists
    close[[99, 100, 199], 1] = np.nan  # gaps on and before rebalancing days
    rng = np.random.default_rng(5)
    orders = np.full((n, 3, 4), np.nan)
    for t in (0, 50, 100, 150, 199, 260):
        w = rng.dirichlet(np.ones(4), size=3) * 0.95
        w[:, np.isnan(close[t])] = 0.0
        orders[t] = w
    dates = business_days("2020-01-01", n)
    growth = np.cumprod(np.full(n, 1.0002)) / 1.0002 if interest else None
    costs, kernel = Costs(fee_bps, slippage_bps, fills=fills), vectorbt_fills if vectorbt else None
    sparse = simulate_with(close, orders, dates, costs, growth, fills=kernel)
    dense = simulate_with(close, orders, dates, costs, growth, fills=kernel, dense=True)
    assert sparse.n_orders.sum() > 10
    for name in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders"):
        assert np.array_equal(getattr(sparse, name), getattr(dense, name), equal_nan=True), name
