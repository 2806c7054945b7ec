"""The look-ahead audit catches leaks and passes honest strategies."""

from __future__ import annotations

import numpy as np
import pytest

from engine.workflows.audit import audit, replace_future
from feeds.sources import DataSpec, load_market
from strategies.baselines import BuyAndHold, MomentumAnnual, MovingAverageTrend
from tests.conftest import random_walk_market
from tests.fixtures.leaky import FullSampleNormalizer, HonestOnline, NoisyOnline, PeekTomorrow


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=300, tickers=("A", "B"), seed=3)


@pytest.mark.parametrize("cls", [MovingAverageTrend, HonestOnline])
def test_honest_strategies_pass(cls, market):
    params = {"window": 50} if cls is MovingAverageTrend else None
    report = audit(cls, market, (0, 1), params=params, cuts=3)
    assert report.passed, report.problems
    assert report.finding == "pass" and len(report.cut_dates) == 3 and report.runs == 8
    assert report.seed is not None and f"seed {report.seed}" in report.summary()


def test_peeking_one_day_ahead_is_caught_with_the_first_leaking_date(market):
    report = audit(PeekTomorrow, market, (0,), cuts=2)
    assert not report.passed and report.finding == "look-ahead"
    assert report.first_leak == report.cut_dates[0]  # the weight at the cut used the day after it
    assert f"first changed decision on {report.first_leak}" in report.summary()


def test_full_sample_normalization_is_caught(market):
    report = audit(FullSampleNormalizer, market, (0,), cuts=2)
    assert report.finding == "look-ahead"
    assert report.first_leak is not None and report.first_leak <= report.cut_dates[0]


def test_nondeterminism_is_its_own_finding_not_look_ahead(market):
    report = audit(NoisyOnline, market, (0, 1), cuts=2)
    assert not report.passed and report.finding == "nondeterministic"
    assert "two identical runs" in report.problems[0] and "unseeded randomness?" in report.problems[0]
    assert "LOOK-AHEAD" not in report.summary()


def test_the_replaced_future_differs_every_day_and_keeps_the_past():
    m = random_walk_market(n=200, tickers=("A", "B"), seed=1)
    cut = 120
    other = replace_future(m, cut, seed=7)
    assert np.array_equal(other.close[: cut + 1], m.close[: cut + 1])
    assert np.array_equal(other.dates, m.dates)
    real, new = m.deltas[cut + 1 :], other.deltas[cut + 1 :]
    assert (np.sign(real) != np.sign(new)).all()  # every future day moves the other way
    again = replace_future(m, cut, seed=7)
    assert np.array_equal(again.close, other.close)  # reproducible from its seed
    assert not np.array_equal(replace_future(m, cut, seed=8).close, other.close)


def test_nan_gaps_and_late_tickers_survive_the_replacement():
    m = random_walk_market(n=120, tickers=("A", "B"), seed=2)
    close = m.close.copy()
    close[:80, 1] = np.nan  # B starts after the cut
    close[100, 0] = np.nan  # a day without a bar
    from dataclasses import replace

    m = replace(m, close=close)
    other = replace_future(m, 50, seed=3)
    assert np.array_equal(np.isnan(other.close), np.isnan(m.close))
    assert (other.close[~np.isnan(other.close)] > 0).all()


@pytest.mark.slow
def test_buy_and_hold_passes(market):
    assert audit(BuyAndHold, market, (0,), cuts=2).passed


@pytest.mark.slow
def test_annual_momentum_passes_with_year_end_cuts():
    sample = load_market(DataSpec.parse("sample")).select(["AAPL", "MSFT", "KO", "XOM", "JNJ", "PG"])
    report = audit(MomentumAnnual, sample, (0,), params={"top_k": 2}, cuts=3)
    assert report.passed, report.problems
    assert all(d[5:7] == "12" for d in report.cut_dates)
