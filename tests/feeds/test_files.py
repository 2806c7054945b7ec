"""Price files: layouts, adjustment, and one clear error per bad-input case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from feeds.errors import DataQuirkWarning, InputError
from feeds.files import read_price_file
from feeds.schema import BARS_SCHEMA

YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def yahoo_rows(n=10, start=dt.date(2020, 1, 6)):
    rows, day = [], start
    while len(rows) < n:
        if day.weekday() < 5:
            c = 100 + len(rows)
            rows.append(f"{day},{c},{c + 1},{c - 1},{c},{c / 2},1000")
        day += dt.timedelta(days=1)
    return rows


def test_yahoo_layout_prefers_adj_close_and_scales_ohlc(tmp_path):
    path = write(tmp_path, "SPY.csv", "\n".join([YAHOO_HEADER, *yahoo_rows(5)]) + "\n")
    bars = read_price_file(path)
    assert bars.schema == BARS_SCHEMA
    assert bars["ticker"].unique().to_list() == ["SPY"]
    assert bars["close"].to_list() == [50.0, 50.5, 51.0, 51.5, 52.0]
    assert bars["open"][0] == pytest.approx(50.0)  # 100 * (50 / 100)
    assert bars["high"][0] == pytest.approx(50.5)


def test_ticker_from_option_and_case_insensitive_columns(tmp_path):
    text = "date,OPEN,high,LOW,close,adj_close,VOLUME\n" + "\n".join(yahoo_rows(3)) + "\n"
    bars = read_price_file(write(tmp_path, "prices.csv", text), ticker="QQQ")
    assert bars["ticker"].unique().to_list() == ["QQQ"]
    assert bars.height == 3


def test_close_used_when_no_adj_close(tmp_path):
    text = "Date,Close\n2020-01-06,10\n2020-01-07,11\n"
    bars = read_price_file(write(tmp_path, "x.csv", text))
    assert bars["close"].to_list() == [10.0, 11.0]


def test_long_layout_many_tickers_unsorted_is_sorted(tmp_path):
    text = "ticker,date,close\nB,2020-01-07,5\nA,2020-01-07,2\nA,2020-01-06,1\nB,2020-01-06,4\n"
    bars = read_price_file(write(tmp_path, "long.csv", text))
    assert bars.select("ticker", "date", "close").rows() == [
        ("A", dt.date(2020, 1, 6), 1.0),
        ("A", dt.date(2020, 1, 7), 2.0),
        ("B", dt.date(2020, 1, 6), 4.0),
        ("B", dt.date(2020, 1, 7), 5.0),
    ]


def test_parquet_long_layout(tmp_path):
    frame = pl.DataFrame(
        {"Date": [dt.date(2020, 1, 6), dt.date(2020, 1, 7)], "Symbol": ["X", "X"], "Close": [1.0, 2.0]}
    )
    path = tmp_path / "p.parquet"
    frame.write_parquet(path)
    bars = read_price_file(path)
    assert bars["close"].to_list() == [1.0, 2.0]
    assert bars["ticker"].to_list() == ["X", "X"]


def test_yfinance_style_timestamps_with_timezone(tmp_path):
    text = "Date,Close\n2020-01-06 00:00:00-05:00,10\n2020-01-07 00:00:00-05:00,11\n"
    bars = read_price_file(write(tmp_path, "tz.csv", text))
    assert bars["date"].to_list() == [dt.date(2020, 1, 6), dt.date(2020, 1, 7)]


def test_us_date_format(tmp_path):
    text = "Date,Close\n01/06/2020,10\n01/07/2020,11\n"
    assert read_price_file(write(tmp_path, "us.csv", text))["date"].to_list() == [
        dt.date(2020, 1, 6),
        dt.date(2020, 1, 7),
    ]


# ---- bad input: one clear message each, naming file, row and field -----------------


def expect_error(path, *fragments, **kwargs):
    with pytest.raises(InputError) as info:
        read_price_file(path, **kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nope.csv", "nope.csv", "no such file")


def test_empty_file(tmp_path):
    expect_error(write(tmp_path, "empty.csv", ""), "empty.csv", "empty file")


def test_header_only(tmp_path):
    expect_error(write(tmp_path, "head.csv", YAHOO_HEADER + "\n"), "head.csv", "no data rows")


def test_missing_close_column(tmp_path):
    expect_error(
        write(tmp_path, "m.csv", "Date,Open\n2020-01-06,1\n"),
        "m.csv",
        "missing column",
        "close",
        "found: Date, Open",
    )


def test_missing_date_column(tmp_path):
    expect_error(write(tmp_path, "m.csv", "Day,Close\n2020-01-06,1\n"), "m.csv", "missing column 'date'")


def test_unparseable_date(tmp_path):
    rows = yahoo_rows(5)
    rows[2] = "2020-13-45" + rows[2][10:]
    expect_error(
        write(tmp_path, "d.csv", "\n".join([YAHOO_HEADER, *rows])),
        "d.csv row 3 (line 4)",
        "field 'Date'",
        "cannot parse '2020-13-45' as a date",
    )


def test_empty_date(tmp_path):
    rows = yahoo_rows(3)
    rows[1] = "" + rows[1][10:]
    expect_error(
        write(tmp_path, "d.csv", "\n".join([YAHOO_HEADER, *rows])), "row 2", "field 'Date'", "empty date"
    )


def test_unparseable_number(tmp_path):
    rows = yahoo_rows(4)
    parts = rows[3].split(",")
    parts[5] = "abc"
    rows[3] = ",".join(parts)
    expect_error(
        write(tmp_path, "n.csv", "\n".join([YAHOO_HEADER, *rows])),
        "n.csv row 4 (line 5)",
        "field 'Adj Close'",
        "cannot parse 'abc' as a number",
    )


def test_nan_close(tmp_path):
    rows = yahoo_rows(4)
    parts = rows[1].split(",")
    parts[5] = "null"
    rows[1] = ",".join(parts)
    expect_error(
        write(tmp_path, "nan.csv", "\n".join([YAHOO_HEADER, *rows])),
        "nan.csv row 2",
        "field 'Adj Close'",
        "missing or NaN",
    )


def test_non_positive_close(tmp_path):
    text = "Date,Close\n2020-01-06,10\n2020-01-07,-3\n2020-01-08,0\n"
    expect_error(
        write(tmp_path, "neg.csv", text),
        "neg.csv row 2 (line 3)",
        "field 'Close'",
        "-3.0 is not positive",
        "2 such rows",
    )


def test_duplicate_date_ticker(tmp_path):
    text = "date,ticker,close\n2020-01-06,A,1\n2020-01-07,A,2\n2020-01-06,A,3\n"
    expect_error(
        write(tmp_path, "dup.csv", text), "dup.csv rows 1, 3", "duplicate", "date 2020-01-06", "ticker A"
    )


def test_weekly_data_rejected(tmp_path):
    days = [dt.date(2020, 1, 6) + dt.timedelta(weeks=i) for i in range(10)]
    text = "Date,Close\n" + "\n".join(f"{d},{10 + i}" for i, d in enumerate(days))
    expect_error(write(tmp_path, "w.csv", text), "w.csv", "looks weekly", "daily bars are required")


def test_intraday_data_rejected(tmp_path):
    text = "Date,Close\n2020-01-06 09:30:00,10\n2020-01-06 10:30:00,11\n2020-01-07 09:30:00,12\n"
    expect_error(write(tmp_path, "i.csv", text), "i.csv", "intraday")


def test_empty_ticker_in_long_layout(tmp_path):
    text = "date,ticker,close\n2020-01-06,A,1\n2020-01-07,,2\n"
    expect_error(write(tmp_path, "t.csv", text), "t.csv row 2", "field 'ticker'", "empty ticker")


def test_unreadable_parquet(tmp_path):
    path = write(tmp_path, "bad.parquet", "this is not parquet")
    expect_error(path, "bad.parquet", "cannot read as parquet")


# ---- tolerated real-data quirks: warnings, not errors -------------------------------


def test_quirks_warn_open_zero_volume_zero_and_gaps(tmp_path):
    lines = [YAHOO_HEADER]
    day = dt.date(1962, 1, 2)
    for i in range(20):
        if i == 10:
            day += dt.timedelta(days=9)  # a market closure
        lines.append(f"{day},0.0,{71 + i},{69 + i},{70 + i},{70 + i},0")
        day += dt.timedelta(days=1 if day.weekday() < 4 else 3)
    with pytest.warns(DataQuirkWarning) as record:
        bars = read_price_file(write(tmp_path, "gspc.csv", "\n".join(lines)))
    messages = " | ".join(str(w.message) for w in record)
    assert "open is 0 on 20 rows" in messages
    assert "volume is 0 on 20 rows" in messages
    assert "gap(s) longer than" in messages
    assert bars["open"].null_count() == 20
    assert bars.height == 20
