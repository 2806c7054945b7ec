"""The look-ahead audit catches leaks and passes honest strategies."""

from __future__ import annotations

import pytest

from engine.audit import audit
from feeds.sources import DataSpec, load_market
from strategies.baselines import BuyAndHold, MomentumAnnual, MovingAverageTrend
from tests.conftest import random_walk_market
from tests.fixtures.leaky import FullSampleNormalizer, HonestOnline, NoisyOnline, PeekTomorrow


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=400, tickers=("A", "B"), seed=3)


@pytest.mark.parametrize("cls", [BuyAndHold, MovingAverageTrend, HonestOnline])
def test_honest_strategies_pass(cls, market):
    params = {"window": 50} if cls is MovingAverageTrend else None
    report = audit(lambda: cls(params), market, (0, 1))
    assert report.passed, report.problems
    assert len(report.cut_dates) == 4 and report.runs == 10


def test_peeking_one_day_ahead_is_caught_with_the_first_leaking_date(market):
    report = audit(PeekTomorrow, market, (0,))
    assert not report.passed
    first_cut = report.cut_dates[0]
    assert report.first_leak == first_cut  # the weight at the cut used the day after it
    assert "change when" in report.summary()


def test_full_sample_normalization_is_caught(market):
    report = audit(FullSampleNormalizer, market, (0,))
    assert not report.passed
    assert report.first_leak is not None and report.first_leak <= report.cut_dates[0]


def test_nondeterminism_is_reported_as_such(market):
    report = audit(NoisyOnline, market, (0, 1))
    assert not report.passed
    assert "not deterministic" in report.problems[0]


def test_annual_momentum_passes_with_year_end_cuts():
    sample = load_market(DataSpec.parse("sample")).select(["AAPL", "MSFT", "KO", "XOM", "JNJ", "PG"])
    sample = sample.head(sample.n_days)
    report = audit(lambda: MomentumAnnual({"top_k": 2}), sample, (0,))
    assert report.passed, report.problems
    assert all(d[5:7] == "12" for d in report.cut_dates)
