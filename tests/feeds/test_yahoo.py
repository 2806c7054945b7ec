"""The Yahoo cache with a stubbed download: never the network."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from feeds import yahoo
from feeds.errors import InputError
from feeds.sources import DataSpec, load_market


def frame(start: str, n: int, scale: float = 1.0) -> pd.DataFrame:
    index = pd.bdate_range(start, periods=n, name="Date")
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "Open": close,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close * scale,
            "Volume": 1e6,
        },
        index=index,
    )


class Stub:
    """Stands in for yfinance.download; records the calls."""

    def __init__(self, *frames):
        self.frames = list(frames)
        self.calls = []

    def __call__(self, ticker, start, **kwargs):
        self.calls.append(start)
        data = self.frames.pop(0)
        return data[data.index >= pd.Timestamp(start)]


def test_first_fetch_then_incremental_refresh(tmp_path):
    first = Stub(frame("2020-01-01", 30))
    report = yahoo.fetch("spy", tmp_path, download=first)
    assert report.ticker == "SPY" and report.full_refresh and report.rows == 30
    assert first.calls == ["1900-01-01"]
    longer = frame("2020-01-01", 40)
    again = Stub(longer)
    report = yahoo.fetch("SPY", tmp_path, download=again)
    assert not report.full_refresh and report.added == 10 and report.rows == 40
    assert again.calls[0] > "2020-02-01"  # only the recent days were asked for
    market = load_market(DataSpec.parse("yahoo:SPY"), cache_dir=tmp_path)
    assert market.tickers == ("SPY",) and market.n_days == 40


def test_new_dividend_adjustment_triggers_full_refresh(tmp_path):
    yahoo.fetch("SPY", tmp_path, download=Stub(frame("2020-01-01", 30)))
    rescaled = frame("2020-01-01", 40, scale=0.98)  # every past adjusted close changed
    stub = Stub(rescaled, rescaled)
    report = yahoo.fetch("SPY", tmp_path, download=stub)
    assert report.full_refresh and len(stub.calls) == 2
    cached = yahoo.read_cached(tmp_path, "SPY")
    assert cached["close"][0] == pytest.approx(98.0)


def test_offline_empty_response_is_a_clear_error_and_keeps_the_cache(tmp_path):
    yahoo.fetch("SPY", tmp_path, download=Stub(frame("2020-01-01", 30)))
    before = yahoo.cache_path(tmp_path, "SPY").read_bytes()
    with pytest.raises(InputError) as info:
        yahoo.fetch("SPY", tmp_path, download=lambda *a, **k: pd.DataFrame())
    message = str(info.value)
    assert "Yahoo returned no data for SPY" in message
    assert str(yahoo.cache_path(tmp_path, "SPY")) in message
    assert "--data csv:PATH" in message
    assert yahoo.cache_path(tmp_path, "SPY").read_bytes() == before


def test_download_raising_is_reported_too(tmp_path):
    def boom(*args, **kwargs):
        raise ConnectionError("no route to host")

    with pytest.raises(InputError, match="ConnectionError: no route to host"):
        yahoo.fetch("QQQ", tmp_path, download=boom)
    assert not yahoo.cache_path(tmp_path, "QQQ").exists()


def test_reading_a_ticker_never_fetched(tmp_path):
    with pytest.raises(InputError, match=r"no cached Yahoo data for XYZ.*backtest data fetch XYZ"):
        load_market(DataSpec.parse("yahoo:XYZ"), cache_dir=tmp_path)


def test_cached_tickers(tmp_path):
    yahoo.fetch("A", tmp_path, download=Stub(frame("2020-01-01", 5)))
    yahoo.fetch("B", tmp_path, download=Stub(frame("2020-01-01", 5)))
    assert yahoo.cached_tickers(tmp_path) == ["A", "B"]
    assert dt.date(2020, 1, 1) == yahoo.read_cached(tmp_path, "A")["date"][0]
