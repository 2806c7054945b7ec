"""Issue 27 (model half): equal weight after costs (fee-neutral fills), and no trade on the data's last row.

Weights after a row's fills are read from the fill records (shares x close / the member's value
at that close) and checked against closed forms and the plain-Python reference
(tests/engine/reference.py, which finds the value after costs by bisection).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline import fills
from engine.pipeline.simulate import Costs, simulate
from engine.pipeline.timing import executable_orders, orders_for_period
from tests.conftest import business_days
from tests.engine import reference


def book_after(close: np.ndarray, orders: np.ndarray, fee_bps: float, slippage_bps: float = 0.0):
    """(shares (n, k), cash (n,)) of one member after each row's fills under the fee-neutral rule."""
    c, o = np.ascontiguousarray(close), np.ascontiguousarray(orders)
    records = fills.simulate_orders(c, o, close.shape[1], fee_bps / 1e4, slippage_bps / 1e4)
    n, k = close.shape
    signed = np.where(records["side"] == 0, records["size"], -records["size"])
    shares = np.zeros((n, k))
    np.add.at(shares, (records["idx"], records["col"]), signed)
    flow = np.zeros(n)
    np.add.at(flow, records["idx"], -signed * records["price"] - records["fees"])
    return np.cumsum(shares, axis=0), 1.0 + np.cumsum(flow)


def weights_after(close, orders, fee_bps, slippage_bps=0.0):
    shares, cash = book_after(close, orders, fee_bps, slippage_bps)
    values = shares * close
    equity = cash + values.sum(axis=1)
    return values / equity[:, None], equity, cash


def test_equal_weight_is_equal_after_costs_79_names_150_bps():
    k, n = 79, 5
    rng = np.random.default_rng(0)
    close = 10.0 + 90.0 * rng.random((n, k))
    orders = np.full((n, 1, k), np.nan)
    orders[0] = 1.0 / k
    sim = simulate(close, orders, business_days("2020-01-01", n), Costs(150.0))
    assert sim.n_orders[0] == k  # every name bought
    # closed form: the whole cash buys k equal positions, fees out of the same cash
    value = 1.0 / (1.0 + 150e-4)
    np.testing.assert_allclose(sim.equity[0, 0], value, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "k,fee_bps,slippage_bps",
    [(2, 5.0, 0.0), (20, 5.0, 0.0), (79, 5.0, 0.0), (79, 150.0, 0.0), (500, 20.0, 0.0), (500, 20.0, 10.0),
     (37, 1000.0, 50.0)],
)  # fmt: skip
def test_every_name_holds_an_equal_weight_after_costs(k, fee_bps, slippage_bps):
    rng = np.random.default_rng(k)
    close = (5.0 + 500.0 * rng.random(k))[None, :]
    orders = np.full((1, k), 1.0 / k)
    weights, equity, cash = weights_after(close, orders, fee_bps, slippage_bps)
    np.testing.assert_allclose(weights[0], 1.0 / k, rtol=0, atol=1e-12)
    f, s = fee_bps / 1e4, slippage_bps / 1e4
    np.testing.assert_allclose(equity[0], 1.0 / ((1 + s) * (1 + f)), rtol=0, atol=1e-12)  # V / (1 + c_buy)
    assert abs(cash[0]) < 1e-12  # all in: the cash is spent, none overdrawn


@pytest.mark.parametrize("fee_bps,slippage_bps", [(5.0, 0.0), (150.0, 0.0), (20.0, 10.0)])
def test_a_rebalance_with_sells_and_buys_meets_every_target(fee_bps, slippage_bps):
    """Day 0 buys one book from cash; prices move; day 1 trades to another book (some names
    sold out, some cut, some grown, one new, one untouched): the value after costs equals the
    reference's root by bisection, and every ordered name holds its target weight of it."""
    close = np.array([[10.0, 20.0, 30.0, 40.0, 50.0, 60.0], [12.0, 18.0, 33.0, 38.0, 50.0, 66.0]])
    orders = np.array(
        [[0.3, 0.2, 0.1, 0.2, 0.0, 0.15], [0.0, 0.3, 0.05, 0.2, 0.25, np.nan]]  # last: no order, held
    )
    weights, equity, cash = weights_after(close, orders, fee_bps, slippage_bps)
    f, s = fee_bps / 1e4, slippage_bps / 1e4
    held = weights[0] * equity[0] / close[0] * close[1]  # day 0's positions at day 1's closes
    value = cash[0] + held.sum()
    expected = reference.post_trade_value(value, held[:5], orders[1, :5], s + f * (1 + s), s + f * (1 - s))
    assert abs(equity[1] - expected) < 1e-12
    np.testing.assert_allclose(weights[1, :5], orders[1, :5], rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights[1, 5] * equity[1], held[5], rtol=1e-12)  # no order: untouched


def test_closed_form_of_one_rebalance():
    """Two names, one cut and one grown: V' = (V - c_sell x_a + c_buy x_b) / (1 - c_sell w_a + c_buy w_b)."""
    close = np.array([[100.0, 100.0], [150.0, 100.0]])
    orders = np.array([[0.5, 0.5], [0.5, 0.5]])
    f = 0.01
    weights, equity, _ = weights_after(close, orders, f * 1e4)
    v0 = 1.0 / (1 + f)
    x_a, x_b = 0.5 * v0 * 1.5, 0.5 * v0
    value = x_a + x_b
    closed = (value - f * x_a + f * x_b) / (1 - f * 0.5 + f * 0.5)
    assert abs(equity[1] - closed) < 1e-15
    np.testing.assert_allclose(weights[1], [0.5, 0.5], rtol=0, atol=1e-15)


def test_long_short_book_meets_its_targets_with_leverage():
    """Gross 2.0 (1.5 long, 0.5 short): short proceeds fund the longs; every weight exact."""
    rng = np.random.default_rng(3)
    close = 20.0 + 80.0 * rng.random((3, 4))
    orders = np.array([[0.8, 0.7, -0.5, 0.0], [0.6, 0.9, -0.3, -0.2], [0.2, 0.3, 0.4, 0.1]])
    weights, _, cash = weights_after(close, orders, 25.0, 5.0)
    np.testing.assert_allclose(weights, orders, rtol=0, atol=1e-12)
    assert (cash >= 0).all()
    sim = simulate(close, orders[:, None, :], business_days("2020-01-01", 3), Costs(25.0, 5.0))
    rows = [list(r) for r in orders]
    equity_ref, _, _ = reference.simulate(close.tolist(), rows, 25e-4, 5e-4)
    np.testing.assert_allclose(sim.equity[:2, 0], equity_ref[:2], rtol=0, atol=1e-12)
    assert sim.traded_value[-1, 0] == 0.0  # the last row's orders do not execute


def test_longs_above_the_cash_are_scaled_by_one_factor():
    """1.5 long and nothing short: cash cannot go below zero, so every buy gets the same share of
    what it needs (the sequential rule would leave the last buys short); relative weights hold."""
    close = np.array([[10.0, 20.0, 40.0]])
    orders = np.array([[0.5, 0.5, 0.5]])
    weights, equity, cash = weights_after(close, orders, 5.0, 2.0)
    np.testing.assert_allclose(weights[0], 1 / 3, rtol=0, atol=1e-12)
    assert abs(cash[0]) < 1e-15
    np.testing.assert_allclose(equity[0], 1 / (1.0002 * 1.0005), rtol=0, atol=1e-15)


def test_sequential_rule_is_the_old_one():
    """Kept as an option: the last buy absorbs the opening cost (79 names, 150 bps: never bought)."""
    k = 79
    close = np.full((2, k), 50.0)
    orders = np.full((2, 1, k), np.nan)
    orders[0] = 1.0 / k
    neutral = simulate(close, orders, business_days("2020-01-01", 2), Costs(150.0))
    sequential = simulate(close, orders, business_days("2020-01-01", 2), Costs(150.0, fills="sequential"))
    assert neutral.n_orders[0] == k and sequential.n_orders[0] < k
    with pytest.raises(ValueError, match="fills must be"):
        Costs(fills="fifo")  # type: ignore[arg-type]


@pytest.mark.parametrize("signal_kind", ["switch", "hold"])
def test_one_ticker_all_in_all_out_fills_as_the_sequential_rule_bit_for_bit(signal_kind):
    """The default single-asset runs (ma-trend, lstm-stateful long/flat, buy-and-hold) trade 0/1 only:
    both rules give the same bits there."""
    rng = np.random.default_rng(1)
    n = 400
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, size=(n, 1)), axis=0))
    if signal_kind == "switch":
        signal = (np.sin(np.arange(n) / 7.0) > 0).astype(float)
    else:
        signal = np.full(n, np.nan)
        signal[0] = 1.0
    orders = signal[:, None, None]
    dates = business_days("2020-01-01", n)
    for fee, slip in ((5.0, 0.0), (25.0, 10.0), (0.0, 0.0)):
        a = simulate(close, orders, dates, Costs(fee, slip))
        b = simulate(close, orders, dates, Costs(fee, slip, fills="sequential"))
        for field in ("equity", "exposure", "position_pnl", "traded_value", "fees", "n_orders"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (field, fee, slip)


def test_no_trade_on_the_last_row():
    n = 6
    close = np.array([[10.0, 20.0]] * n) * np.linspace(1.0, 1.5, n)[:, None]
    orders = np.full((n, 1, 2), np.nan)
    orders[0] = [1.0, 0.0]
    orders[-1] = [0.0, 1.0]  # a decision whose holding period lies wholly beyond the data
    sim = simulate(close, orders, business_days("2020-01-01", n), Costs(5.0))
    assert sim.traded_value[-1, 0] == 0.0
    assert sim.fees[-1, 0] == 0.0 and sim.n_orders[0] == 1
    # the last day's return is the held position's: ticker 0 from the previous close
    assert sim.equity[-1, 0] / sim.equity[-2, 0] == pytest.approx(close[-1, 0] / close[-2, 0], rel=1e-14)
    assert sim.exposure[-1, 0] == pytest.approx(1.0, rel=1e-14)
    assert not np.isnan(orders[-1]).any()  # the caller's decisions are not touched


def test_a_decision_lag_rows_before_the_end_does_not_fill():
    targets = np.full((10, 1, 1), np.nan)
    targets[2] = 1.0
    targets[8] = 0.0  # with lag 1 it would fill on row 9, the last
    orders = orders_for_period(targets, 2, lag=1)
    assert orders[-1, 0, 0] == 0.0 and np.isnan(executable_orders(orders)[-1]).all()
    close = np.linspace(10.0, 19.0, 10)[:, None]
    sim = simulate(close[2:], orders, business_days("2020-01-01", 8), Costs(5.0))
    assert sim.traded_value[-1, 0] == 0.0 and sim.exposure[-1, 0] == pytest.approx(1.0)
    assert executable_orders(orders[:-1]) is not orders[:-1] or np.isnan(orders[-2]).all()


def test_annual_run_ending_on_a_year_end_keeps_the_decision_and_holds_the_last_year():
    """The sample cut at 2021-12-31 (a year-end decision on the last row): the rebalance into 2022
    is recorded in the weights but not traded; 2021's return is the held picks' price return."""
    import datetime as dt

    from engine.config.run_config import RunConfig, StrategySpec
    from engine.pipeline.prepare import prepare
    from engine.pipeline.runner import execute
    from feeds.sources import DataSpec, load_market

    market = load_market(DataSpec.parse("sample")).between(None, dt.date(2021, 12, 31))
    assert str(market.dates[-1]) == "2021-12-31"
    config = RunConfig(strategies=(StrategySpec(name="momentum-annual"),), start=None)
    run = execute(prepare(config, market=market))
    result = run.strategies[0]
    assert not np.isnan(result.targets[-1]).all()  # the decision at the last close is kept
    payload = run.to_dict()
    picks = payload["strategies"][0]["picks"]["2021"]
    start = int(np.flatnonzero(market.dates <= np.datetime64("2020-12-31"))[-1])
    cols = [list(market.tickers).index(t) for t in picks]
    held = np.mean(market.close[-1, cols] / market.close[start, cols]) - 1  # equal weights after costs
    assert payload["strategies"][0]["yearly"]["2021"] == pytest.approx(held, abs=1e-12)


def test_equal_weight_against_bt():
    """bt charges commissions on traded value too (here f x |shares| x price), each order paying its
    own from the amount it is given. Opening an equal-weight book from cash that is the closed form,
    so bt and the engine agree to rounding. At a rebalance bt sizes every order from the value before
    the trades and each order bears its own fee, so its weights miss equality by about f x that
    order's size; the engine's are equal and its value differs from bt's by second-order terms
    (f^2 x traded value). bt, like the engine, does not trade on the data's last row (its
    ``run_on_last_date=False``)."""
    bt = pytest.importorskip("bt")
    import pandas as pd

    k, n, f = 20, 3, 20e-4
    rng = np.random.default_rng(0)
    close = np.empty((n, k))
    close[0] = 10.0 + 90.0 * rng.random(k)
    for t in (1, 2):
        close[t] = close[t - 1] * (1 + 0.2 * (rng.random(k) - 0.5))
    index = pd.date_range("2020-01-01", periods=n, freq="D")
    capital = 1e6  # bt's share search stops within np.isclose's atol (1e-8 of cash): negligible at 1e6
    strategy = bt.Strategy(
        "ew",
        [
            bt.algos.RunDaily(run_on_first_date=True),
            bt.algos.SelectAll(),
            bt.algos.WeighEqually(),
            bt.algos.Rebalance(),
        ],
    )
    test = bt.Backtest(
        strategy,
        pd.DataFrame(close, index=index, columns=[f"T{i:02d}" for i in range(k)]),
        initial_capital=capital,
        commissions=lambda q, p: abs(q) * p * f,
        integer_positions=False,
        progress_bar=False,
    )
    result = bt.run(test).backtests["ew"]
    theirs = result.strategy.values.to_numpy()[1:] / capital  # bt adds a day before the data
    their_weights = result.security_weights.to_numpy()[1:]
    dates = index.to_numpy().astype("datetime64[D]")
    ours = simulate(close, np.full((n, 1, k), 1.0 / k), dates, Costs(f * 1e4))
    orders = np.full((n, k), 1.0 / k)
    orders[-1] = np.nan  # the kernel alone has no last-row rule (simulate applies it)
    weights, equity, _ = weights_after(close, orders, f * 1e4)
    np.testing.assert_allclose(equity, ours.equity[:, 0], rtol=1e-14)
    # the opening: the same book
    assert abs(ours.equity[0, 0] - theirs[0]) < 1e-12
    np.testing.assert_allclose(their_weights[0], 1.0 / k, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights[0], 1.0 / k, rtol=0, atol=1e-12)
    # the rebalance: the engine's weights equal, bt's off by its per-order fees; values to f^2
    np.testing.assert_allclose(weights[1], 1.0 / k, rtol=0, atol=1e-12)
    assert np.ptp(their_weights[1]) > 1e-7
    assert abs(ours.equity[1, 0] - theirs[1]) <= 2 * f**2 * ours.traded_value[1, 0]
    # the last row: neither trades
    assert ours.traded_value[2, 0] == 0.0 and result.strategy.fees.iloc[-1] == 0.0
