"""Tearsheet panels derived from the stored curves, checked against independent computations."""

from __future__ import annotations

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


def test_costs_are_the_stored_turnover(stored):
    result, _, weights, _ = stored
    assert analysis.cost_rows(result, weights)[0]["turnover /yr"] == round(result.strategies[0].turnover, 2)
