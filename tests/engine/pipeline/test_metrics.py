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


def _fees_by_hand(dates, values, fees, initial=1.0):
    """(total / initial, {year: that year's fees / the value the year started from}), loop by loop."""
    years = [reference.to_date(d).year for d in dates]
    if len(years) > 1 and years[1] != years[0]:
        years[0] = years[1]  # a start on a year's last close counts in the next year
    total, per_year, paid, start = 0.0, {}, 0.0, initial
    for i, year in enumerate(years):
        total += fees[i]
        paid += fees[i]
        if i == len(years) - 1 or years[i + 1] != year:
            per_year[year] = paid / start
            paid, start = 0.0, values[i]
    return total / initial, per_year


@pytest.mark.parametrize("first", ["2019-03-04", "2018-12-31"])
def test_fees_paid_and_yearly_fees_against_a_hand_count(curve, first):
    _, values = curve
    dates = business_days(first, 700)
    rng = np.random.default_rng(3)
    fees = np.where(rng.random(700) < 0.1, rng.random(700) * 1e-3, 0.0)
    fees[0] = 5e-4  # the opening trade
    total, per_year = _fees_by_hand(dates, values.tolist(), fees.tolist(), initial=1.0)
    assert abs(metrics.fees_paid(fees[:, None])[0] - total) < TOL
    assert abs(total - fees.sum()) < TOL  # a start of 1.0: the fraction is the currency paid
    years, _, _ = metrics.yearly_yields(dates, values[:, None])
    got = metrics.yearly_fees(dates, values[:, None], fees[:, None])
    assert years == list(per_year)
    for i, year in enumerate(years):
        assert abs(got[i, 0] - per_year[year]) < TOL


def test_seed_aggregate_and_means_over_seeds(curve):
    dates, values = curve
    equity = np.column_stack([values, values * 1.1, values * 0.9, values * 1.05])
    fees = np.full_like(equity, 1e-5)
    fees[:, 1] = 2e-5
    zeros = np.zeros_like(equity)
    got = metrics.compute_metrics(
        dates, equity, exposure=zeros + 1.0, traded_value=zeros, fees=fees, position_pnl=zeros,
        n_orders=np.array([3, 4, 5, 6]),
    )  # fmt: skip
    cols = [0, 1, 3]  # column 2 (say an ensemble) left out
    agg = metrics.seed_aggregate(got, cols, benchmark_cagr=got.cagr[0], stochastic=True)
    cagrs = [reference.cagr(dates, equity[:, c]) for c in cols]
    assert agg["n_seeds"] == 3
    assert agg["cagr_best"] == pytest.approx(max(cagrs), abs=TOL)
    assert metrics.best_column(got.cagr[cols]) == 1  # the highest CAGR: column 1 (x 1.1)
    assert agg["share_beating_benchmark"] == pytest.approx(2 / 3)
    assert agg["fees_paid_mean"] == pytest.approx((700e-5 + 1400e-5 + 700e-5) / 3, abs=TOL)
    mean = got.mean_over(cols)
    assert mean.cagr[0] == pytest.approx(np.mean(cagrs), abs=TOL)
    assert mean.trades[0] == pytest.approx(13 / 3)
    assert mean.fees_paid[0] == pytest.approx(agg["fees_paid_mean"], abs=TOL)
    assert mean.yearly.shape == (len(got.years), 1) and mean.yearly_fees.shape == (len(got.years), 1)
