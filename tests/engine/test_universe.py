"""Universes whose tickers start late or end early, and the picks of annual strategies."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import RunConfig, StrategySpec
from engine.picks import annual_picks
from engine.runner import execute, prepare
from engine.simulate import Costs, simulate
from feeds.market import Market
from tests.conftest import business_days


def test_a_ticker_that_stops_trading_is_sold_at_its_last_close():
    close = np.array([[100.0, 50.0], [110.0, 50.0], [121.0, 50.0], [np.nan, 55.0], [np.nan, 60.5]])
    orders = np.full((5, 1, 2), np.nan)
    orders[0, 0] = [0.5, 0.5]  # never told to sell AAA
    sim = simulate(close, orders, business_days("2020-01-01", 5), Costs(0.0))
    # AAA sold at 121 on row 2: 0.5 * 1.21 in cash from then on; BBB half grows 1.0 -> 1.21
    np.testing.assert_allclose(sim.equity[:, 0], [1.0, 1.05, 1.105, 0.605 + 0.55, 0.605 + 0.605], atol=1e-12)
    assert abs(sim.exposure[-1, 0] - 0.5) < 1e-12  # AAA's proceeds stay in cash


def test_the_sale_is_costed_and_a_late_starter_can_be_bought():
    close = np.array([[np.nan, 50.0], [np.nan, 50.0], [10.0, 50.0], [10.0, 50.0]])
    orders = np.full((4, 1, 2), np.nan)
    orders[0, 0] = [0.0, 1.0]
    orders[2, 0] = [0.5, 0.5]  # A starts trading on row 2
    sim = simulate(close, orders, business_days("2020-01-01", 4), Costs(10.0))
    assert sim.n_orders[0] == 3  # buy B, then sell half of B and buy A
    assert sim.exposure[2, 0] > 0.99


def long_market(n: int = 1300) -> Market:
    """Three years and a half of 4 stocks: LATE starts in year 2, GONE stops in year 3."""
    rng = np.random.default_rng(3)
    dates = business_days("2010-01-01", n)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, size=(n, 4)), axis=0))
    close[:300, 2] = np.nan  # LATE
    close[900:, 3] = np.nan  # GONE
    return Market(dates=dates, tickers=("AAA", "BBB", "LATE", "GONE"), close=close, origin="synthetic")


def test_annual_run_over_late_and_early_tickers():
    market = long_market()
    config = RunConfig(
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 2, "lookback_days": 60}),),
        cost_bps=0.0,
    )
    result = execute(prepare(config, market=market))
    picks = result.to_dict()["strategies"][0]["picks"]
    assert list(picks) == ["2011", "2012", "2013", "2014"]
    assert any("LATE" in tickers for tickers in picks.values())
    year_ends = np.flatnonzero(market.year_end)
    for year, tickers in picks.items():
        t = next(e for e in year_ends if str(market.dates[e])[:4] == str(int(year) - 1))
        for ticker in tickers:  # only tickers with a price at the decision were eligible
            assert not np.isnan(market.close[t, market.tickers.index(ticker)])
    # whatever held GONE, nothing is valued at a frozen price after its last close: equity moves only with
    # the other tickers, so the run's last equity matches a re-simulation where GONE is sold explicitly
    strat = result.strategies[0]
    assert np.isfinite(strat.equity).all()
    bench = result.to_dict()["benchmarks"]
    assert bench[0]["name"] == "buy-and-hold"
    assert not any("survivorship" in n for n in result.notes)  # GONE stops early: not a survivor list


def test_survivorship_note_when_every_ticker_survives():
    market = long_market()
    close = market.close.copy()
    close[900:, 3] = 90.0
    survivors = Market(dates=market.dates, tickers=market.tickers, close=close, origin="synthetic")
    config = RunConfig(strategies=(StrategySpec(name="momentum-annual", params={"lookback_days": 60}),))
    result = execute(prepare(config, market=survivors))
    assert any("survivorship" in n for n in result.notes)


def test_picks_and_share_beating_the_median_by_hand():
    dates = np.array(
        ["2019-12-30", "2019-12-31", "2020-06-30", "2020-12-31", "2021-06-30"], dtype="datetime64[D]"
    )
    close = np.array(
        [
            [10.0, 10.0, 10.0, 10.0],
            [10.0, 10.0, 10.0, 10.0],
            [11.0, 9.0, 10.0, 12.0],
            [12.0, 8.0, 11.0, np.nan],  # D stopped after June: its return runs to its last close (12)
            [12.0, 8.0, 11.0, np.nan],
        ]
    )
    targets = np.full((5, 2, 4), np.nan)
    targets[1] = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    picks = annual_picks(targets, (0, 1), ("A", "B", "C", "D"), dates, close, start=0)
    assert picks["picks"] == {"2020": ["A", "B"]}
    assert picks["pick_returns"]["2020"] == pytest.approx({"A": 0.2, "B": -0.2})
    assert picks["universe_median_return"]["2020"] == pytest.approx(0.15)
    assert picks["picks_by_seed"] == {"2020": {"A": 1, "B": 1, "C": 1, "D": 1}}
    # returns to 2021-06-30: A +20%, B -20%, C +10%, D +20%; median +15%
    assert picks["picks_beat_median"]["share"] == 0.5
    assert picks["picks_beat_median"]["share_mean_over_seeds"] == 0.5  # C loses, D wins
