"""Every metric against an independent plain-Python computation, to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline import metrics
from tests.conftest import business_days
from tests.engine import reference

TOL = 1e-9


@pytest.fixture
def curve():
    """Three years of a hand-built equity curve with a crash and a recovery."""
    dates = business_days("2019-03-04", 700)
    t = np.arange(700)
    values = 1.0 + 0.0006 * t + 0.08 * np.sin(t / 37.0) - 0.25 * ((t > 300) & (t < 360))
    return dates, values


def test_cagr_from_real_dates(curve):
    dates, values = curve
    got = metrics.cagr(dates, values[:, None])[0]
    assert abs(got - reference.cagr(dates, values)) < TOL


def test_cagr_worked_example():
    # doubling over exactly 4 calendar years of 365.25 days: 2**(1/4) - 1
    dates = np.array(["2000-01-03", "2004-01-03"], dtype="datetime64[D]")
    days = (dates[1] - dates[0]).astype(int)
    expected = 2 ** (365.25 / days) - 1
    assert abs(metrics.cagr(dates, np.array([[1.0], [2.0]]))[0] - expected) < TOL


def test_yearly_yields(curve):
    dates, values = curve
    years, got, partial = metrics.yearly_yields(dates, values[:, None])
    expected = reference.yearly(dates, values)
    assert years == list(expected)
    for i, year in enumerate(years):
        assert abs(got[i, 0] - expected[year]) < TOL
    assert partial == [2019, 2021]  # starts in March, ends in autumn


def test_yearly_yields_start_on_year_end_counts_in_next_year():
    dates = np.array(["2020-12-31", "2021-06-30", "2021-12-31", "2022-12-30"], dtype="datetime64[D]")
    values = np.array([0.999, 1.1, 1.2, 1.5])[:, None]
    years, got, partial = metrics.yearly_yields(dates, values)
    assert years == [2021, 2022]
    assert abs(got[0, 0] - (1.2 / 1.0 - 1)) < TOL  # opening cost inside 2021
    assert abs(got[1, 0] - (1.5 / 1.2 - 1)) < TOL
    assert partial == []


def test_sharpe(curve):
    dates, values = curve
    r = metrics.daily_returns(values[:, None])
    got = metrics.sharpe(r, metrics.periods_per_year(dates))[0]
    assert abs(got - reference.sharpe(dates, values)) < TOL


def test_max_drawdown(curve):
    _dates, values = curve
    assert abs(metrics.max_drawdown(values[:, None])[0] - reference.max_drawdown(values)) < TOL


def test_max_drawdown_counts_initial_value_as_first_peak():
    values = np.array([0.9, 0.95, 1.2, 0.6])[:, None]
    assert abs(metrics.max_drawdown(values)[0] - (0.6 / 1.2 - 1)) < TOL
    assert abs(metrics.max_drawdown(np.array([0.9, 0.95])[:, None])[0] - (-0.1)) < TOL


def test_flat_curve_has_undefined_sharpe():
    r = np.zeros((10, 1))
    assert np.isnan(metrics.sharpe(r, 252.0)[0])
    assert np.isnan(metrics.sortino(r, 252.0)[0])


def test_metrics_are_vectorized_over_columns(curve):
    dates, values = curve
    both = np.column_stack([values, values[::-1]])
    got = metrics.cagr(dates, both)
    assert abs(got[1] - reference.cagr(dates, values[::-1])) < TOL
    assert abs(metrics.max_drawdown(both)[1] - reference.max_drawdown(values[::-1])) < TOL
