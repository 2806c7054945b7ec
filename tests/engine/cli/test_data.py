"""`backtest data fetch --universe`, `data coverage`, `data panel`: the yfinance download stubbed."""

from __future__ import annotations

import pytest

from engine.cli import main
from tests.feeds.test_universe_fetch import BatchStub, bars


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture
def no_pause(monkeypatch):
    from feeds import universe_fetch

    monkeypatch.setattr(universe_fetch, "PAUSE_S", 0.0)
    monkeypatch.setattr(universe_fetch, "BACKOFF_S", 0.0)
    monkeypatch.setattr(universe_fetch.time, "sleep", lambda s: None)


def test_fetch_a_csv_universe_then_coverage_and_panel(capsys, tmp_path, monkeypatch, no_pause):
    import yfinance

    members = tmp_path / "members.csv"
    members.write_text("ticker,start,end\nAAA,2019-01-01,\nbrk.b,2019-01-01,\nGONE,2019-01-01,2019-12-31\n")
    stub = BatchStub({"AAA", "BRK-B"})
    stub.data = bars("2018-01-01", 800)  # to 2021
    monkeypatch.setattr(yfinance, "download", stub)
    cache = tmp_path / "cache"
    code, out, err = cli(
        capsys, "data", "fetch", "--universe", f"csv:{members}", "--end", "2020", "--cache-dir", str(cache)
    )
    assert code in (0, None), err
    assert stub.batches == [["AAA", "BRK-B", "GONE"]]  # one batch, Yahoo's spelling
    assert "2 fetched, 0 already fetched today, 1 failed" in out and "failed GONE" in out
    assert "2019:   2 of   3 members ( 66.7%)" in out and "missing GONE" in out
    # a second fetch the same day retries only the failed ticker
    cli(capsys, "data", "fetch", "--universe", f"csv:{members}", "--end", "2020", "--cache-dir", str(cache))
    assert stub.batches[1:] == [["GONE"]]

    code, out, _ = cli(
        capsys,
        "data",
        "coverage",
        "--universe",
        f"csv:{members}",
        "--start",
        "2019",
        "--cache-dir",
        str(cache),
    )
    assert code in (0, None) and "2019:   2 of   3 members" in out
    code, out, err = cli(capsys, "data", "panel", str(tmp_path / "panel"), "--cache-dir", str(cache))
    assert code in (0, None), err
    code, out, err = cli(capsys, "data", "info", "--data", f"panel:{tmp_path / 'panel'}")
    assert code in (0, None) and "AAA" in out and "BRK-B" in out


def test_coverage_of_the_bundled_sample_names_the_missing(capsys):
    code, out, err = cli(capsys, "data", "coverage", "--universe", "sp500", "--data", "sample", "--json")
    assert code in (0, None), err
    import json

    rows = json.loads(out)["coverage"]
    years = {r["year"]: r for r in rows}
    assert min(years) == 2004 and max(years) == 2022  # the sample ends 2022-12-28
    assert all(r["members"] > 450 and r["with_data"] <= 20 for r in rows)
    assert years[2006]["with_data"] == 19 and years[2006]["members"] == 497
    assert all(r["weight_missing"] is None for r in rows)


def test_fetch_without_tickers_or_universe_is_one_clear_line(capsys):
    code, _, err = cli(capsys, "data", "fetch")
    assert code == 2 and "--universe" in err


def test_fetch_replaces_an_old_cache_file_and_reports_a_correction(capsys, tmp_path, monkeypatch):
    """`data fetch TICKER`: an old adjusted-close cache file is fetched again in full; a raw close that
    Yahoo changed on a cached day is reported in one line."""
    import numpy as np
    import polars as pl
    import yfinance

    from feeds import yahoo
    from tests.feeds.test_yahoo import DAYS, RAW, publishing

    cache = tmp_path / "cache"
    path = yahoo.cache_path(cache, "SPY")
    path.parent.mkdir(parents=True)
    pl.DataFrame({"date": DAYS[:5], "ticker": ["SPY"] * 5, "close": RAW[:5]}).write_parquet(path)
    stub = publishing(published=15, step=0)
    monkeypatch.setattr(yfinance, "download", stub)
    code, out, err = cli(capsys, "data", "fetch", "SPY", "--cache-dir", str(cache))
    assert code in (0, None), err
    assert "old adjusted-close cache file was replaced" in " ".join(out.split())
    stub.raw = np.where(np.arange(len(RAW)) == 13, 114.5, RAW)
    stub.published = 16
    code, out, err = cli(capsys, "data", "fetch", "SPY", "--cache-dir", str(cache))
    assert code in (0, None), err
    assert f"Yahoo corrected 1 cached day(s), first {DAYS[13]}: raw close 113 -> 114.5" in " ".join(
        err.split()
    )
