"""Headline parsing, cleaning, sources and the as-of alignment to the 16:00 New York close."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from feeds.errors import InputError
from feeds.headline_sources import daily_features, load_headlines, parse_feed, parse_yahoo_news
from feeds.headlines import assign_trading_days, clean_text, parse_timestamp, read_headline_file
from tests.conftest import SHARED_DATA

NEWS = Path(__file__).resolve().parents[1] / "fixtures" / "news"
UTC = dt.UTC


def ny(*args: int) -> np.datetime64:
    """A New York wall-clock time as UTC datetime64[us]."""
    from zoneinfo import ZoneInfo

    local = dt.datetime(*args, tzinfo=ZoneInfo("America/New_York"))
    return np.datetime64(local.astimezone(UTC).replace(tzinfo=None), "us")


def days(*isos: str) -> np.ndarray:
    return np.array(isos, dtype="datetime64[D]")


def assign(stamps: list[np.datetime64], dates: np.ndarray, date_only: list[bool] | None = None, rule="next"):
    flags = np.array(date_only or [False] * len(stamps))
    rows = assign_trading_days(np.array(stamps, dtype="datetime64[us]"), flags, dates, date_only_rule=rule)
    return [str(dates[r]) if r >= 0 else None for r in rows]


def test_published_one_minute_before_and_after_the_close():
    dates = days("2022-03-07", "2022-03-08")
    assert assign([ny(2022, 3, 7, 15, 59), ny(2022, 3, 7, 16, 1)], dates) == ["2022-03-07", "2022-03-08"]
    assert assign([ny(2022, 3, 7, 16, 0)], dates) == ["2022-03-07"]  # at the decision time: known


def test_friday_after_close_saturday_and_a_holiday_roll_to_the_next_trading_day():
    # 2020-07-03 (Friday) was a market holiday: trading days Thu 07-02, Mon 07-06
    dates = days("2020-07-02", "2020-07-06", "2020-07-07")
    stamps = [ny(2020, 7, 2, 17, 0), ny(2020, 7, 3, 10, 0), ny(2020, 7, 4, 12, 0), ny(2020, 7, 6, 9, 0)]
    assert assign(stamps, dates) == ["2020-07-06"] * 4
    # an ordinary Friday after the close -> Monday
    fri = days("2021-06-04", "2021-06-07")
    assert assign([ny(2021, 6, 4, 16, 30), ny(2021, 6, 5, 11, 0)], fri) == ["2021-06-07", "2021-06-07"]


@pytest.mark.parametrize(
    "switch,monday",
    [((2021, 3, 14), (2021, 3, 15)), ((2021, 11, 7), (2021, 11, 8))],  # spring forward, fall back
)
def test_both_daylight_saving_switch_days(switch, monday):
    dates = days(f"{monday[0]}-{monday[1]:02d}-{monday[2]:02d}", "2022-01-03")
    sunday = [ny(*switch, 1, 30), ny(*switch, 3, 30), ny(*switch, 23, 0)]  # around the switch itself
    close = [ny(*monday, 15, 59), ny(*monday, 16, 1)]
    got = assign(sunday + close, dates)
    assert got == [str(dates[0])] * 4 + ["2022-01-03"]
    # 16:00 New York is 20:00 UTC under EDT (after the March switch), 21:00 UTC under EST (November)
    offset = (ny(*monday, 16, 0) - np.datetime64(f"{dates[0]}T16:00", "us")).astype("timedelta64[h]")
    assert int(offset.astype(int)) == (4 if monday[1] == 3 else 5)


def test_date_only_headlines_next_day_by_default_same_day_as_an_option():
    dates = days("2016-06-30", "2016-07-01", "2016-07-05")
    stamps = [np.datetime64(d, "us") for d in ("2016-06-30", "2016-07-01", "2016-07-02")]
    assert assign(stamps, dates, [True] * 3) == ["2016-07-01", "2016-07-05", "2016-07-05"]
    assert assign(stamps, dates, [True] * 3, rule="same") == ["2016-06-30", "2016-07-01", "2016-07-05"]
    late = [np.datetime64("2016-07-05", "us")]
    assert assign(late, dates, [True]) == [None]  # after the data: not assigned


@pytest.mark.parametrize(
    "text,expected,date_only",
    [
        ("7:51 PM ET Fri, 17 July 2020", "2020-07-17T23:51:00", False),  # EDT = UTC-4
        ("10:05 AM ET Mon, 6 January 2020", "2020-01-06T15:05:00", False),  # EST = UTC-5
        ("Mon, 07 Mar 2022 08:15:53 GMT", "2022-03-07T08:15:53", False),
        ("2020-07-17T19:51:00Z", "2020-07-17T19:51:00", False),
        ("2020-07-17T19:51:00+02:00", "2020-07-17T17:51:00", False),
        ("2020-07-17 15:00", "2020-07-17T19:00:00", False),  # no zone: New York
        ("2016-07-01", "2016-07-01T00:00:00", True),
        ("7/1/2016", "2016-07-01T00:00:00", True),
    ],
)
def test_timestamp_formats(text, expected, date_only):
    stamp, flag = parse_timestamp(text)
    assert stamp.tzinfo is not None
    assert stamp.astimezone(UTC).replace(tzinfo=None).isoformat() == expected
    assert flag is date_only


def test_cleaning():
    assert clean_text("b'It\\'s a \\xe2\\x80\\x9ctest\\xe2\\x80\\x9d'") == ("It's a \u201ctest\u201d", True)
    assert clean_text('b"Rock &amp; roll"') == ("Rock & roll", True)
    assert clean_text("  two\r\n lines\there ") == ("two lines here", False)
    assert clean_text("bob's news") == ("bob's news", False)


def test_files_count_what_they_drop_and_reject(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text(
        "Date,News\r\n"
        "2016-07-01,b'First &amp; foremost'\r\n"
        "2016-07-01,First & foremost\r\n"  # a duplicate once cleaned
        '2016-07-01,"multi\r\nline"\r\n'
        "2016-07-01,\r\n"
        "not a date,Something\r\n"
        ",No date at all\r\n"
        "2016-06-30,Earlier\r\n"
    )
    frame, report = read_headline_file(path)
    assert frame["headline"].to_list() == ["Earlier", "First & foremost", "multi line"]
    assert (report.rows, report.kept, report.duplicates, report.empty) == (7, 3, 1, 1)
    assert sum(report.rejected.values()) == 2
    assert any("row 6" in e and "not a date" in e for e in report.examples)  # header is row 1
    assert frame.schema["published_at"] == pl.Datetime("us", "UTC")


def test_wide_layout_and_custom_columns(tmp_path):
    wide = tmp_path / "combined.csv"
    wide.write_text("Date,Label,Top1,Top2,Top3\n2016-07-01,1,A,b'B',C\n2016-06-30,0,D,,F\n")
    frame, report = read_headline_file(wide)
    assert sorted(frame["headline"].to_list()) == ["A", "B", "C", "D", "F"]
    assert report.empty == 1
    custom = tmp_path / "custom.csv"
    custom.write_text("when,what,source\n2022-03-07T15:00:00Z,Hello,wire\n")
    frame, _ = read_headline_file(custom, time_column="when", text_column="what")
    assert frame["source"].to_list() == ["wire"]
    with pytest.raises(InputError, match=r"custom\.csv: --time-column 'nope': no such column"):
        read_headline_file(custom, time_column="nope")
    with pytest.raises(InputError, match="not found"):
        load_headlines(f"csv:{tmp_path / 'missing.csv'}")


def test_rss_and_atom_samples():
    rss, report = parse_feed((NEWS / "reuters_rss.xml").read_bytes())
    assert rss["headline"].to_list() == [
        "Stocks rally as Fed signals pause & yields fall",
        "Oil jumps after the close on supply worries",
    ]
    assert report.empty == 1 and set(rss["source"]) == {"Markets News"}
    dates = days("2022-03-07", "2022-03-08")
    rows = assign_trading_days(rss["published_at"].to_numpy(), rss["date_only"].to_numpy(), dates)
    assert rows.tolist() == [0, 1]  # 21:30 GMT is after the 16:00 EST close
    atom, _ = load_headlines(f"rss:{NEWS / 'markets_atom.xml'}")
    rows = assign_trading_days(
        atom["published_at"].to_numpy(), atom["date_only"].to_numpy(), days("2022-03-08", "2022-03-09")
    )
    assert dict(zip(atom["headline"], rows.tolist(), strict=True)) == {
        "Chipmakers slide on export curbs": 0,
        "Retail sales beat forecasts": 1,
    }


def test_yahoo_news_sample_both_layouts():
    items = json.loads((NEWS / "yahoo_news.json").read_text())
    frame, report = parse_yahoo_news(items, "AAPL")
    assert frame["headline"].to_list() == [
        "Apple unveils new chip lineup",
        "Apple shares edge higher after event",
    ]
    assert frame["source"].to_list() == ["Reuters", "Bloomberg"]
    assert set(frame["ticker"]) == {"AAPL"}
    assert sum(report.rejected.values()) == 1
    rows = assign_trading_days(
        frame["published_at"].to_numpy(), frame["date_only"].to_numpy(), days("2024-06-10", "2024-06-11")
    )
    assert rows.tolist() == [0, 0]  # 15:45 EDT and exactly 16:00 EDT


def test_daily_features_mean_and_count():
    frame = pl.DataFrame(
        {
            "published_at": [
                dt.datetime(2022, 3, 7, 14, tzinfo=UTC),
                dt.datetime(2022, 3, 7, 15, tzinfo=UTC),
                dt.datetime(2022, 3, 9, 15, tzinfo=UTC),
            ],
            "date_only": [False, False, False],
        }
    )
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    feats, rows = daily_features(frame, days("2022-03-07", "2022-03-08", "2022-03-09"), vectors)
    np.testing.assert_array_equal(feats["headlines"], [[0.5, 0.5], [0, 0], [2, 2]])
    np.testing.assert_array_equal(feats["headline_count"][:, 0], [2, 0, 1])
    assert rows.tolist() == [0, 0, 2]


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_real_reddit_headlines():
    frame, report = read_headline_file(SHARED_DATA / "headlines_reddit_worldnews_2008-06-08_2016-07-01.csv")
    assert report.rows == 73_608
    assert report.unwrapped_bytes == 18_810
    assert report.kept + report.duplicates + report.empty + sum(report.rejected.values()) == report.rows
    assert frame["date_only"].all()
    assert not frame["headline"].str.contains("^b['\"]|&amp;").any()
