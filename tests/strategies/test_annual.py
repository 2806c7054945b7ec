"""Annual stock pickers: never see the year they predict, late/early tickers, audit, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.drive import generate_targets
from engine.workflows.audit import audit, replace_future
from feeds.market import Market
from strategies.annual import LstmAnnual, TransformerAnnual, monthly_features
from strategies.baselines import MomentumAnnual
from strategies.history import History
from tests.conftest import business_days

SMALL = {"steps": 20, "update_steps": 5, "batch": 16, "min_years": 2, "top_k": 2}
SEEDS = (0, 1)


def universe(n_years: int = 7, seed: int = 4) -> Market:
    """Six stocks; LATE starts in year 3, GONE stops in year 5."""
    n = 261 * n_years
    rng = np.random.default_rng(seed)
    drift = np.array([0.0002, 0.0004, 0.0006, 0.0001, 0.0003, 0.0005])
    close = 50.0 * np.exp(np.cumsum(rng.normal(drift, 0.012, size=(n, 6)), axis=0))
    close[: 261 * 2 + 30, 4] = np.nan
    close[261 * 5 - 40 :, 5] = np.nan
    tickers = ("AAA", "BBB", "CCC", "DDD", "LATE", "GONE")
    return Market(dates=business_days("2001-01-01", n), tickers=tickers, close=close, origin="synthetic")


@pytest.fixture(scope="module")
def market() -> Market:
    return universe()


class Recording(LstmAnnual):
    """Records, per fit, the fit day and the newest day any training target reached."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        super().begin(history, seeds)
        self.log: list[tuple[np.datetime64, np.datetime64]] = []

    def fit(self, history: History, seeds: tuple[int, ...]) -> None:
        super().fit(history, seeds)
        ends = np.flatnonzero(history.year_end)
        used = self.last_training_years
        # the target of a pair at year end T_j is the close of the next year end T_{j+1}
        newest = max(ends[list(ends).index(t) + 1] for t in used)
        self.log.append((history.today, history.dates[newest]))


def test_an_annual_model_never_sees_the_year_it_predicts(market):
    strategy = Recording(SMALL)
    result = generate_targets(strategy, market, SEEDS)
    assert len(strategy.log) >= 3
    for fit_day, newest_target in strategy.log:
        # picks made at fit_day are held over the next year; every target ended by fit_day
        assert newest_target <= fit_day
    # and the picks at a year end do not move when everything after it changes
    cut = int(np.flatnonzero(market.year_end)[3])
    other = generate_targets(Recording(SMALL), replace_future(market, cut, seed=20240611), SEEDS).targets
    assert np.array_equal(result.targets[: cut + 1], other[: cut + 1], equal_nan=True)


def test_only_stocks_with_data_at_the_decision_are_picked(market):
    result = generate_targets(LstmAnnual({**SMALL, "top_k": 6}), market, SEEDS)
    for t in np.flatnonzero(~np.isnan(result.targets).all(axis=(1, 2))):
        _, eligible = monthly_features(History(market, t + 1), t, 12, [])
        held = (result.targets[t] > 0).any(axis=0)
        assert not (held & ~eligible).any()
        assert not held[5] or not np.isnan(market.close[t, 5])
    # LATE is eligible once it has 12 months of prices; GONE never after its last close
    decided = np.flatnonzero(~np.isnan(result.targets).all(axis=(1, 2)))
    late = [t for t in decided if (result.targets[t, :, 4] > 0).any()]
    gone = [t for t in decided if (result.targets[t, :, 5] > 0).any()]
    assert late and min(late) > 261 * 3
    assert all(t < 261 * 5 - 40 for t in gone)


@pytest.mark.parametrize("cls", [LstmAnnual, TransformerAnnual])
def test_seeds_bitwise_alone_or_among_and_ensemble(market, cls):
    params = {**SMALL, "weighting": "score"}
    both = generate_targets(cls(params), market, (0, 1))
    assert both.members == (0, 1, "ensemble")
    alone = generate_targets(cls(params), market, (1,)).targets
    assert np.array_equal(both.targets[:, 1], alone[:, 0], equal_nan=True)
    rows = both.targets[~np.isnan(both.targets).all(axis=(1, 2))]
    np.testing.assert_allclose(rows.sum(axis=2), 1.0)  # fully invested in the picks


@pytest.mark.parametrize(
    "make",
    [
        lambda: MomentumAnnual({"lookback_days": 120, "top_k": 2}),
        lambda: LstmAnnual(SMALL),
        lambda: TransformerAnnual(SMALL),
    ],
)
def test_annual_strategies_pass_the_audit(market, make):
    report = audit(make, market, SEEDS, cuts=2)
    assert report.passed, report.problems


def test_pca_of_extra_features_is_fitted_on_training_pairs_only(market):
    from dataclasses import replace

    rng = np.random.default_rng(2)
    fed = replace(market, features={"news": rng.normal(size=(market.n_days, 6))})
    params = {**SMALL, "pca": 2}
    strategy = LstmAnnual(params)
    result = generate_targets(strategy, fed, SEEDS)
    assert strategy.n_inputs == 4 and strategy.pca is not None
    assert not np.isnan(result.targets).all()
    report = audit(lambda: LstmAnnual(params), fed, SEEDS, cuts=2)
    assert report.passed, report.problems
