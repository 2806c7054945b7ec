from __future__ import annotations

import numpy as np

from feeds.market import Market
from strategies.baselines import BuyAndHold, MomentumAnnual, MovingAverageTrend
from strategies.history import History
from tests.conftest import business_days, random_walk_market


def test_buy_and_hold_decides_once_and_on_membership_changes():
    close = np.array([[1.0, np.nan], [1.1, np.nan], [1.2, 5.0], [1.3, 5.1]])
    market = Market(business_days("2020-01-01", 4), ("A", "B"), close)
    w = BuyAndHold().target_weights(History(market), ())
    np.testing.assert_array_equal(w[0], [1.0, 0.0])
    assert np.isnan(w[1]).all() and np.isnan(w[3]).all()
    np.testing.assert_array_equal(w[2], [0.5, 0.5])


def test_moving_average_rule_matches_a_plain_loop():
    market = random_walk_market(n=300, tickers=("A", "B"), seed=9)
    window = 30
    w = MovingAverageTrend({"window": window}).target_weights(History(market), ())
    for t in range(300):
        for j in range(2):
            if t < window - 1:
                assert np.isnan(w[t, j])
                continue
            ma = market.close[t - window + 1 : t + 1, j].mean()
            expected = 0.5 if market.close[t, j] > ma else 0.0
            assert w[t, j] == expected


def test_moving_average_short_variant():
    market = random_walk_market(n=100, seed=2)
    w = MovingAverageTrend({"window": 10, "short": True}).target_weights(History(market), ())
    assert set(np.unique(w[9:])) <= {-1.0, 1.0}


def test_momentum_picks_top_k_by_trailing_return_at_year_ends():
    market = random_walk_market(n=800, tickers=("A", "B", "C", "D"), seed=4, start="2018-01-01")
    lookback = 100
    w = MomentumAnnual({"lookback_days": lookback, "top_k": 2}).target_weights(History(market), ())
    decided = np.flatnonzero(~np.isnan(w).all(axis=1))
    assert decided.size and market.year_end[decided].all()
    for t in decided:
        trailing = market.close[t] / market.close[t - lookback] - 1
        best = set(np.argsort(-trailing)[:2])
        assert set(np.flatnonzero(w[t])) == best
        assert np.isclose(w[t].sum(), 1.0)
