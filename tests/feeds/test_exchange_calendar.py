"""The exchange calendar: session closes with early closes, the fallback range, partial years, warnings."""

from __future__ import annotations

import datetime as dt
import time
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from engine.pipeline.metrics import yearly_yields
from feeds.errors import DataQuirkWarning
from feeds.exchange_calendar import (
    CALENDAR_START,
    calendar_mismatches,
    describe,
    is_session,
    session_closes,
    session_table,
    warn_calendar_mismatches,
)
from feeds.headlines import assign_trading_days
from feeds.market import Market
from tests.conftest import GSPC_CSV

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> np.datetime64:
    """A New York wall-clock time as UTC datetime64[us] (computed with zoneinfo, not the calendar)."""
    local = dt.datetime(*args, tzinfo=NY)
    return np.datetime64(local.astimezone(dt.UTC).replace(tzinfo=None), "us")


def days(*isos: str) -> np.ndarray:
    return np.array(isos, dtype="datetime64[D]")


@pytest.mark.parametrize(
    ("day", "hour"),
    [
        ("2019-07-03", 13),  # the day before Independence Day
        ("2019-11-29", 13),  # the day after Thanksgiving
        ("2019-12-24", 13),  # Christmas Eve
        ("2020-11-27", 13),
        ("2019-07-02", 16),
        ("2019-03-08", 16),  # the Friday before the spring DST switch (EST)
        ("2019-03-11", 16),  # the Monday after it (EDT)
        ("2019-11-01", 16),
        ("2019-11-04", 16),  # after the autumn switch
    ],
)
def test_session_closes_honour_early_closes_and_dst(day, hour):
    y, m, d = (int(x) for x in day.split("-"))
    assert session_closes(days(day))[0] == ny(y, m, d, hour)


def test_headlines_on_an_early_close_day_go_to_the_close_they_preceded():
    dates = days("2019-07-01", "2019-07-02", "2019-07-03", "2019-07-05", "2019-07-08")
    stamps = np.array([ny(2019, 7, 3, 12, 59), ny(2019, 7, 3, 13, 30), ny(2019, 7, 3, 13, 0)])
    rows = assign_trading_days(stamps, np.zeros(3, dtype=bool), dates)
    # 13:00 is the close itself (at or after publication counts); 13:30 was after the close
    assert [str(dates[r]) for r in rows] == ["2019-07-03", "2019-07-05", "2019-07-03"]


def test_before_the_calendar_range_weekdays_close_at_16():
    assert session_table().first >= np.datetime64(CALENDAR_START)
    assert session_closes(days("1965-07-02"))[0] == ny(1965, 7, 2, 16)
    assert is_session(days("1965-07-02", "1965-07-03")).tolist() == [True, False]
    assert is_session(days("2019-07-04", "2019-07-05")).tolist() == [False, True]
    assert "XNYS" in describe() and "16:00" in describe()


def test_partial_years_follow_the_sessions():
    equity = np.ones((3, 1))
    # 2017-01-02 was a holiday: a period from 2017-01-03 covers the whole year
    _, _, partial = yearly_yields(days("2017-01-03", "2017-06-01", "2017-12-29"), equity)
    assert partial == []
    _, _, partial = yearly_yields(days("2017-01-04", "2017-06-01", "2017-12-29"), equity)
    assert partial == [2017]
    _, _, partial = yearly_yields(days("2017-01-03", "2017-06-01", "2017-12-28"), equity)
    assert partial == [2017]
    # 2021-12-31 was a session (New Year's Day on a Saturday is not observed on Friday)
    _, _, partial = yearly_yields(days("2021-01-04", "2021-12-30"), np.ones((2, 1)))
    assert partial == [2021]


def test_a_file_that_misses_a_session_or_trades_on_a_holiday_warns_once():
    dates = days("2019-07-01", "2019-07-02", "2019-07-04", "2019-07-08")  # 07-04 holiday, 07-03/05 missing
    close = np.ones((4, 2))
    close[:2, 1] = np.nan  # BBB starts on 07-04: its own range is judged only
    with pytest.warns(DataQuirkWarning) as record:
        warn_calendar_mismatches(dates, close, ("AAA", "BBB"), "prices.csv")
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith("prices.csv:")
    assert "AAA misses 2 session(s) (e.g. 2019-07-03, 2019-07-05)" in message
    assert "has 1 row(s) on non-sessions (e.g. 2019-07-04)" in message
    missing, extra = calendar_mismatches(dates[2:])
    assert [str(d) for d in missing] == ["2019-07-05"] and [str(d) for d in extra] == ["2019-07-04"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_calendar_mismatches(days("2019-07-03", "2019-07-05"), np.ones((2, 1)), ("AAA",), "ok.csv")


def test_year_end_of_the_last_row_uses_sessions():
    market = Market(dates=days("2022-12-29", "2022-12-30"), tickers=("A",), close=np.ones((2, 1)))
    assert market.year_end.tolist() == [False, True]
    market = Market(dates=days("2021-12-29", "2021-12-30"), tickers=("A",), close=np.ones((2, 1)))
    assert market.year_end.tolist() == [False, False]  # 2021-12-31 is still to come


def test_lookups_are_fast_once_built():
    session_table()
    many = np.arange(np.datetime64("1990-01-01"), np.datetime64("2023-01-01"))
    started = time.perf_counter()
    session_closes(many)
    is_session(many)
    assert time.perf_counter() - started < 2.0  # ~12k days; generous on a contended machine


@pytest.mark.skipif(not GSPC_CSV.exists(), reason="../shared/data is absent")
def test_the_real_index_history_matches_the_calendar_from_1970():
    from feeds.files import read_price_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQuirkWarning)
        bars = read_price_file(GSPC_CSV)
    dates = np.unique(bars["date"].to_numpy().astype("datetime64[D]"))
    recent = dates[dates >= np.datetime64("1970-01-01")]
    missing, extra = calendar_mismatches(recent)
    assert missing.size == 0 and extra.size == 0


def test_the_disk_cache_gives_the_same_table(tmp_path, monkeypatch):
    import feeds.exchange_calendar as xc

    monkeypatch.setenv("STOCKRNN_CACHE_DIR", str(tmp_path))
    built = xc.session_table()
    xc.session_table.cache_clear()
    try:
        first = xc.session_table()  # builds (or reads) and writes tmp_path/calendars/...
        assert any((tmp_path / "calendars").iterdir())
        xc.session_table.cache_clear()
        again = xc.session_table()  # read back
        assert np.array_equal(again.sessions, first.sessions) and np.array_equal(again.closes, first.closes)
        # this process's table may be from an earlier day (built before midnight, or a disk cache
        # still reaching REBUILD_HORIZON_DAYS ahead), so it can end earlier: the sessions both hold agree
        n = min(len(again.sessions), len(built.sessions))
        assert np.array_equal(again.sessions[:n], built.sessions[:n])
        next(iter((tmp_path / "calendars").iterdir())).write_bytes(b"damaged")
        xc.session_table.cache_clear()
        assert np.array_equal(xc.session_table().closes, first.closes)  # rebuilt, not trusted
    finally:
        xc.session_table.cache_clear()
