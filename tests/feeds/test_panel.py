"""The year-partitioned panel store: written, scanned lazily (columns, range, tickers), read by panel:."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from feeds import panel
from feeds.errors import InputError
from feeds.schema import BARS_SCHEMA
from feeds.sources import DataSpec, load_market


def bars(tickers: list[str], start: str = "2018-01-01", n: int = 800) -> pl.DataFrame:
    days = np.busday_offset(np.datetime64(start), np.arange(n), roll="forward").astype("datetime64[D]")
    frames = []
    for i, t in enumerate(tickers):
        close = 10.0 + i + np.arange(n) * 0.01
        frames.append(
            pl.DataFrame(
                {
                    "date": days,
                    "ticker": t,
                    "open": close,
                    "high": close + 1,
                    "low": close - 1,
                    "close": close,
                    "volume": 1e6,
                }
            )
        )
    return pl.concat(frames).cast(dict(BARS_SCHEMA))


def test_written_by_year_and_read_back_equal(tmp_path):
    frame = bars(["AAA", "BBB", "CCC"])
    path = panel.write_panel(frame, tmp_path / "panel")
    years = sorted(p.name for p in path.iterdir() if p.is_dir())
    assert years == ["year=2018", "year=2019", "year=2020", "year=2021"]
    assert panel.panel_tickers(path) == ("AAA", "BBB", "CCC")
    back = panel.load_panel(path, columns=tuple(c for c in BARS_SCHEMA if c not in ("date", "ticker")))
    assert back.equals(frame.sort("ticker", "date"))


def test_load_selects_columns_range_and_tickers(tmp_path):
    path = panel.write_panel(bars(["AAA", "BBB", "CCC"]), tmp_path / "panel")
    got = panel.load_panel(path, tickers=["bbb"], start=dt.date(2019, 3, 1), end=dt.date(2019, 12, 31))
    assert got["ticker"].unique().to_list() == ["BBB"]
    assert got["date"].min() >= dt.date(2019, 3, 1) and got["date"].max() <= dt.date(2019, 12, 31)
    assert got["open"].null_count() == got.height and got["close"].null_count() == 0  # close only
    # the plan reads only the asked columns (3 + the partition column of 8) and skips 2018's file
    plan = (
        panel.scan_panel(path)
        .filter(pl.col("year") >= 2019, pl.col("date") >= dt.date(2019, 3, 1))
        .select("date", "ticker", "close")
        .explain()
    )
    assert "year=2018" not in plan and "year=2019" in plan and "2 other sources" in plan
    assert "PROJECT 4/8 COLUMNS" in plan


@pytest.mark.filterwarnings("ignore::feeds.errors.DataQuirkWarning")
def test_data_spec_panel_and_bad_panels(tmp_path):
    path = panel.write_panel(bars(["AAA", "BBB"]), tmp_path / "panel")
    market = load_market(DataSpec.parse(f"panel:{path}"))
    assert market.tickers == ("AAA", "BBB") and market.n_days == 800
    with pytest.raises(InputError, match="not a panel dataset"):
        panel.load_panel(tmp_path / "nothing")
    with pytest.raises(InputError, match="unknown column"):
        panel.load_panel(path, columns=("adj",))
    with pytest.raises(InputError, match="no rows"):
        panel.load_panel(path, tickers=["ZZZ"])


def test_rewrite_replaces_the_dataset(tmp_path):
    path = panel.write_panel(bars(["AAA"], n=300), tmp_path / "panel")
    panel.write_panel(bars(["BBB"], start="2020-01-01", n=100), path)
    got = panel.load_panel(path)
    assert got["ticker"].unique().to_list() == ["BBB"] and sorted(p.name for p in path.iterdir()) == [
        "tickers.txt",
        "year=2020",
    ]
    (path / "tickers.txt").unlink()  # a panel written before the list: read from the year files
    assert panel.panel_tickers(path) == ("BBB",)


def test_range_opens_only_its_year_files(tmp_path, monkeypatch):
    # years outside the range are never opened: their files may even be unreadable
    path = panel.write_panel(bars(["AAA", "BBB"]), tmp_path / "panel")  # 2018..2021
    for year in (2018, 2021):
        (path / f"year={year}" / "part.parquet").write_bytes(b"not parquet")
    scanned: list[list[str]] = []
    scan = pl.scan_parquet
    monkeypatch.setattr(pl, "scan_parquet", lambda files, **kw: scanned.append(files) or scan(files, **kw))
    got = panel.load_panel(path, start=dt.date(2019, 3, 1), end=dt.date(2020, 6, 30))
    assert [p.parent.name for p in scanned[0]] == ["year=2019", "year=2020"]
    assert got["date"].min() >= dt.date(2019, 3, 1) and got["date"].max() <= dt.date(2020, 6, 30)
    assert got.height == 2 * int(
        ((bars(["A"])["date"] >= dt.date(2019, 3, 1)) & (bars(["A"])["date"] <= dt.date(2020, 6, 30))).sum()
    )
    with pytest.raises(InputError, match="cannot read"):
        panel.load_panel(path)  # the whole dataset does open them
    with pytest.raises(InputError, match="no rows"):
        panel.load_panel(path, start=dt.date(2030, 1, 1))  # no year file in range


def test_tickers_with_indices(tmp_path):
    path = panel.write_panel(bars(["AAA", "BBB", "^IDX"]), tmp_path / "panel")
    got = panel.load_panel(path, tickers=[" aaa"], indices=True)
    assert got["ticker"].unique().sort().to_list() == ["AAA", "^IDX"]
