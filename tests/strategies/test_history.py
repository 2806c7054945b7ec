"""Plugins trying each channel to tomorrow (tests/fixtures/leaky_channels.py) vs the History and the audit.

The audit of each runs ~6 fresh processes: the full table is marked slow; one leak
that the old in-process audit missed stays in the fast suite.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.drive import generate_targets
from engine.workflows.audit import audit
from feeds.market import Market
from strategies.history import History
from tests.conftest import random_walk_market
from tests.fixtures.leaky_channels import CHANNELS, FrameWalker, ModuleMemo, OnlineBase, OnlineStrided


@pytest.fixture(scope="module")
def market() -> Market:
    return random_walk_market(n=260, tickers=("A", "B"), seed=5)


def test_module_memo_across_passes_is_caught(market):
    report = audit(ModuleMemo, market, (0,), cuts=2)
    assert report.finding == "look-ahead" and report.first_leak == report.cut_dates[0]


@pytest.mark.slow
@pytest.mark.parametrize("cls", list(CHANNELS), ids=lambda c: c.__name__)
def test_each_channel(cls, market):
    if cls.__name__ == "ReadsPriceFile":
        pytest.skip("reads the sample file: covered by the implausibility flag test")
    expected = CHANNELS[cls][1]
    report = audit(cls, market, (0,), cuts=2)
    assert report.finding == expected, report.summary()
    if expected == "look-ahead":
        assert report.first_leak in report.cut_dates
    if expected == "error":
        assert "on 2" in report.problems[0] and "leaky_channels.py:" in report.problems[0]


@pytest.mark.parametrize("cls", [OnlineBase, OnlineStrided])
def test_online_views_reach_no_future_row(cls, market):
    strategy = cls()
    generate_targets(strategy, market, (0,))
    assert strategy.seen_future is False


def test_frame_walking_does_leak_in_process(market):
    # documented limit: in one process the engine's frames hold the data (the audit catches it)
    targets = generate_targets(FrameWalker(), market, (0,)).targets[:-1, 0]
    up = np.diff(market.close, axis=0) > 0
    assert np.array_equal(targets > 0, up)


def test_history_arrays_hold_nothing_after_the_last_day(market):
    history = History(market, 100)
    for array in (history.close, history.deltas, history.open, history.volume, history.dates):
        base = array.base
        assert base is not None
        assert len(base) == 101  # one unwritten row
        assert not np.isfinite(base[100]).any() if base.dtype.kind == "f" else np.isnat(base[100])
    with pytest.raises(ValueError, match=r"holds rows 0\.\.99 only"):
        history.upto(100)
    assert history.upto(99).n_days == 100
    assert not hasattr(history, "_market")
