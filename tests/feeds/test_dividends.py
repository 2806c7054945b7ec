"""Dividends: the bundled S&P 500 series, accrual, total-return closes, dividend files."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

from feeds.dividends import (
    SHILLER_PATH,
    MonthlyDividends,
    accrue_ex_dates,
    accrue_monthly,
    read_dividend_file,
    shiller_dividends,
    total_return_close,
)
from feeds.errors import InputError
from tests.conftest import SHARED_DATA


def test_the_bundled_series_is_shillers_through_its_last_known_month():
    series = shiller_dividends()
    assert str(series.first_month) == "1871-01" and str(series.last_month) == "2023-06"
    assert (series.rate > 0).all() and (series.price > 0).all()
    assert len(series.months) == (series.last_month - series.first_month).astype(int) + 1
    assert 0.01 < series.last_yield < 0.02


@pytest.mark.skipif(
    not (SHARED_DATA / "sp500_shiller_monthly_1871-01_2026-06.csv").is_file(), reason="no data"
)
def test_the_bundled_series_equals_the_source_file():
    with open(SHARED_DATA / "sp500_shiller_monthly_1871-01_2026-06.csv") as f:
        source = {r["Date"][:7]: float(r["Dividend"]) for r in csv.DictReader(f)}
    series = shiller_dividends()
    for month, rate in zip(series.months, series.rate, strict=True):
        assert rate == pytest.approx(source[str(month)], abs=5e-7)
    assert source["2023-07"] == 0.0  # missing from here on, so not shipped


def test_monthly_accrual_counts_calendar_days_in_each_month():
    series = MonthlyDividends(
        np.array(["2020-01", "2020-02"], dtype="datetime64[M]"),
        np.array([36.525, 73.05]),
        np.array([1.0, 2.0]),
    )
    dates = np.array(["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04"], dtype="datetime64[D]")
    close = np.array([100.0, 100.0, 100.0, 100.0])
    acc = accrue_monthly(dates, close, series)
    # 0.1 points a day in January, 0.2 in February; Friday -> Monday: Feb 1, 2, 3
    assert acc.points == pytest.approx([0.0, 0.1, 0.6, 0.2])
    assert acc.carried_from is None


def test_beyond_the_series_the_last_yield_is_carried_forward_and_flagged():
    series = MonthlyDividends(
        np.array(["2020-01"], dtype="datetime64[M]"), np.array([36.525]), np.array([50.0])
    )  # last yield 36.525 / 50 a year
    dates = np.array(["2020-01-31", "2020-02-03"], dtype="datetime64[D]")
    acc = accrue_monthly(dates, np.array([200.0, 210.0]), series)
    assert acc.carried_from == np.datetime64("2020-02-01")
    assert acc.points[1] == pytest.approx(3 * 36.525 / 50.0 * 200.0 / 365.25)


def test_ex_date_amounts_accrue_on_the_first_session_on_or_after_the_ex_date():
    dates = np.array(["2020-01-02", "2020-01-03", "2020-01-06"], dtype="datetime64[D]")
    ex = np.array(["2020-01-02", "2020-01-04", "2020-01-06", "2020-02-01"], dtype="datetime64[D]")
    points = accrue_ex_dates(dates, ex, np.array([9.0, 1.0, 2.0, 7.0]))
    assert points.tolist() == [0.0, 0.0, 3.0]  # before the data and after its end: nothing


def test_total_return_close_reinvests_at_the_close():
    tr = total_return_close(np.array([100.0, 110.0, 99.0]), np.array([0.0, 1.0, 0.0]))
    assert tr == pytest.approx([100.0, 111.0, 111.0 * 99.0 / 110.0])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("date,dividend\n2020-01-02,0.5\n2020-04-02,-0.1\n", "row 2 (line 3), field 'dividend': negative"),
        ("date,dividend\n2020-01-02,abc\n", "row 1 (line 2), field 'dividend': cannot parse 'abc'"),
        ("date,dividend\n2020-01-02,\n", "row 1 (line 2), field 'dividend': empty dividend"),
        ("date,dividend\n2020-13-02,0.1\n", "row 1 (line 2), field 'date': cannot parse"),
        ("date,dividend\n2020-01-02,0.1\n2020-01-02,0.2\n", "row 2 (line 3), field 'date': date 2020-01-02"),
        ("day,amount\n2020-01-02,0.1\n", "expected columns date,dividend"),
    ],
)
def test_bad_dividend_files_name_file_row_and_field(tmp_path, body, message):
    path = tmp_path / "div.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=str(path)) as info:
        read_dividend_file(path)
    assert message in str(info.value)


def test_a_dividend_file_with_tickers_and_yahoos_column_name(tmp_path):
    path = tmp_path / "div.csv"
    path.write_text("Date,Dividends,Ticker\n2020-02-07 00:00:00-05:00,0.77,AAPL\n2020-01-02,0.5,KO\n")
    found = read_dividend_file(path)
    assert set(found.series) == {"AAPL", "KO"}
    assert found.series["AAPL"][0][0] == np.datetime64("2020-02-07")


def test_the_package_data_is_declared_and_credited():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert any(p.endswith(".csv") for p in package_data["feeds.data"])
    notice = (SHILLER_PATH.parent / "NOTICE.md").read_text()
    assert "Shiller" in notice and SHILLER_PATH.name in notice
    assert dt.date(2023, 6, 1)  # the documented last month (see test above)
