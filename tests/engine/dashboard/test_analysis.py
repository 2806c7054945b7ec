"""Tearsheet panels derived from the stored curves, checked against independent computations."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from engine.dashboard import analysis
from engine.dashboard.series import series


def test_monthly_returns_match_an_independent_resample(stored):
    result, equity, _, _ = stored
    item = series(result, equity)[0]
    table = analysis.monthly_returns(item.dates, item.values)
    s = pd.Series(item.values, index=pd.to_datetime(item.dates))
    ends = s.groupby(s.index.to_period("M")).last()
    want = ends / ends.shift(1, fill_value=1.0) - 1
    got = {(p.year, p.month): table[p.year][p.month - 1] for p in want.index}
    assert got == pytest.approx({(p.year, p.month): v for p, v in want.items()}, rel=1e-12)
    years = (item.values[-1]) / 1.0
    compounded = np.prod([1 + v for row in table.values() for v in row if v is not None])
    assert compounded == pytest.approx(years, rel=1e-12)


def test_worst_drawdown_equals_the_stored_max_drawdown(stored):
    result, equity, _, _ = stored
    for item, entry in zip(series(result, equity), result.entries, strict=True):
        rows = analysis.drawdown_periods(item.dates, item.values)
        assert rows[0]["depth %"] == pytest.approx(entry.max_drawdown * 100, abs=0.006)
        assert [r["depth %"] for r in rows] == sorted(r["depth %"] for r in rows)


def test_costs_are_the_stored_turnover_and_fees(stored):
    result, _, weights, payload = stored
    row = analysis.cost_rows(result, weights)[0]
    assert row["turnover /yr"] == round(result.strategies[0].turnover, 2)
    entry = payload["strategies"][0]
    assert entry["fees_paid"] > 0
    assert row["fees paid % of start"] == round(entry["fees_paid"] * 100, 3)  # read as stored
    yearly = list(entry["yearly_fees"].values())
    assert row["fees %/yr (mean of years)"] == round(sum(yearly) / len(yearly) * 100, 3)


def test_a_run_stored_before_fees_were_recorded_shows_none(stored):
    from engine.api import parse_result

    _, _, weights, payload = stored
    old = copy.deepcopy(payload)
    for entry in [*old["strategies"], *old["benchmarks"], old["benchmark"]]:
        del entry["fees_paid"], entry["yearly_fees"], entry["aggregate"]["fees_paid_mean"]
    row = analysis.cost_rows(parse_result(old), weights)[0]
    assert row["fees paid % of start"] is None and row["fees %/yr (mean of years)"] is None


def test_the_exposure_title_says_what_is_drawn(stored):
    result, _, weights, _ = stored
    fig = analysis.exposure_figure(result, weights)
    daily = len(weights["date"].unique()) > 400
    title = fig.layout.title.text
    assert "at each decision" not in title or not daily  # a monthly average is never called a decision
    assert ("monthly average" in title) == daily
    assert all(("monthly average" in t.name) == daily for t in fig.data)


def test_heatmap_cells_never_read_minus_zero():
    assert analysis.cell_text(-0.0) == "0.0"
    assert analysis.cell_text(-0.04) == "0.0"
    assert analysis.cell_text(-0.3) == "-0.3"
    assert analysis.cell_text(12.0) == "12.0"  # always one decimal
