"""Headline files with other column names: auto-detection, --headline-column/--time-column/--timezone."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.cli import main
from feeds.errors import InputError
from feeds.headline_sources import load_headlines
from feeds.headlines import assign_trading_days
from tests.conftest import random_walk_market, write_yahoo_csv

# (Time, Headlines, the trading day it must land on) on the Mon 2020-07-13 .. Fri 2020-07-17 week
ROWS = [
    ("7:51 PM ET Mon, 13 July 2020", "after Monday's close", "2020-07-14"),
    ("3:59 PM ET Tue, 14 July 2020", "a minute before the close", "2020-07-14"),
    ("4:00 PM ET Wed, 15 July 2020", "at the close", "2020-07-15"),
    ("9:30 AM ET Sat, 18 July 2020", "on the weekend", "2020-07-20"),
]


def headline_file(tmp_path, time_name="Time", text_name="Headlines"):
    path = tmp_path / "cnbc.csv"
    lines = [f"{text_name},{time_name},Description"]
    lines += [f'"{text}","{time}","more about {text}"' for time, text, _ in ROWS]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("time_name", "text_name"),
    [("Time", "Headlines"), ("pubDate", "title"), ("publishedAt", "Title"), ("Date", "News"),
     ("published_at", "headline"), ("datetime", "text"), ("Timestamp", "Headline")],
)  # fmt: skip
def test_common_column_names_are_found(tmp_path, time_name, text_name):
    frame, _ = load_headlines(f"csv:{headline_file(tmp_path, time_name, text_name)}")
    assert sorted(frame["headline"].to_list()) == sorted(text for _, text, _ in ROWS)


def test_named_columns_and_alignment(tmp_path):
    path = headline_file(tmp_path, "Zeit", "Schlagzeile")
    with pytest.raises(InputError, match=r"cnbc\.csv: no date/time column.*--time-column COLUMN"):
        load_headlines(f"csv:{path}")
    with pytest.raises(InputError, match=r"no headline column.*--headline-column COLUMN"):
        load_headlines(f"csv:{path}", time_column="Zeit")
    with pytest.raises(InputError, match=r"--headline-column 'Headline': no such column"):
        load_headlines(f"csv:{path}", time_column="Zeit", headline_column="Headline")
    frame, report = load_headlines(f"csv:{path}", time_column="Zeit", headline_column="Schlagzeile")
    assert report.kept == len(ROWS)
    dates = np.arange(np.datetime64("2020-07-06"), np.datetime64("2020-07-25"))
    dates = dates[np.is_busday(dates)]
    rows = assign_trading_days(frame["published_at"].to_numpy(), frame["date_only"].to_numpy(), dates)
    landed = {text: str(dates[r]) for text, r in zip(frame["headline"].to_list(), rows, strict=True)}
    assert landed == {text: day for _, text, day in ROWS}


def test_timezone_applies_to_times_without_a_zone(tmp_path):
    path = tmp_path / "naive.csv"
    path.write_text("Headline,Time\nlate in London,2020-07-14 20:30\n")
    ny, _ = load_headlines(f"csv:{path}")
    london, _ = load_headlines(f"csv:{path}", timezone="Europe/London")
    assert ny["published_at"][0] == dt.datetime(2020, 7, 15, 0, 30, tzinfo=dt.UTC)
    assert london["published_at"][0] == dt.datetime(2020, 7, 14, 19, 30, tzinfo=dt.UTC)
    with pytest.raises(InputError, match="--timezone 'Mars/Olympus'"):
        load_headlines(f"csv:{path}", timezone="Mars/Olympus")


def test_cli_import_with_column_flags(tmp_path, capsys):
    path = headline_file(tmp_path, "Zeit", "Schlagzeile")
    market = random_walk_market(n=30, tickers=("IDX",), start="2020-07-01")
    data = write_yahoo_csv(tmp_path / "IDX.csv", market)
    args = ["headlines", "import", f"csv:{path}", "--data", f"csv:{data}"]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2 and "--time-column" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main([*args, "--headline-column", "Schlagzeile", "--time-column", "Zeit", "--timezone", "UTC"])
    out = " ".join(capsys.readouterr().out.split())
    assert info.value.code == 0
    # the zone in "7:51 PM ET" wins over --timezone; two headlines land on 2020-07-14
    assert "4 headlines kept" in out and "4 headlines on 3 of 30 trading days" in out
