"""engine.dashboard.series.thin: the points of a long line drawn, extremes and ends kept."""

from __future__ import annotations

import numpy as np

from engine.dashboard.series import drawdown, thin


def test_a_long_line_is_cut_to_the_limit_with_its_extremes_and_ends():
    rng = np.random.default_rng(3)
    dates = np.arange(8313).astype("datetime64[D]")
    values = np.exp(np.cumsum(rng.normal(0, 0.01, 8313)))
    values[:50] = np.nan  # a curve that starts later
    x, y = thin(dates, values, max_points=2000)
    assert len(x) == len(y) <= 2000
    assert np.all(np.diff(x.astype(np.int64)) > 0)
    assert np.nanmax(y) == np.nanmax(values) and np.nanmin(y) == np.nanmin(values)
    assert y[-1] == values[-1] and x[-1] == dates[-1]
    np.testing.assert_array_equal(y, values[np.searchsorted(dates, x)])  # real points, none invented
    full = drawdown(values[50:])
    _, dd = thin(dates[50:], full)
    assert dd.min() == full.min()  # the maximum drawdown is drawn exactly


def test_a_short_line_is_unchanged():
    dates = np.arange(100).astype("datetime64[D]")
    values = np.linspace(1, 2, 100)
    x, y = thin(dates, values)
    assert x is dates and y is values
