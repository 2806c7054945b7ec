"""The Yahoo cache with a stubbed download: never the network."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from feeds import yahoo
from feeds.errors import InputError
from feeds.sources import DataSpec, load_market
from tests.feeds.yahoo_stub import PublishingYahoo


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


# -- raw closes with dividend and split events (issue 25): the past never changes -----------------


def sessions(start: str, n: int) -> np.ndarray:
    from feeds.exchange_calendar import session_table

    table = session_table().sessions
    return table[table >= np.datetime64(start)][:n]


DAYS = sessions("2021-03-01", 30)
RAW = 100.0 + np.arange(30.0)  # raw closes: +1 a day
RAW[20:] /= 2.0  # a 2:1 split on row 20: the raw close halves
DIVIDEND_ROW, DIVIDEND, SPLIT_ROW = 12, 1.5, 20


def publishing(published: int = 10, step: int = 1) -> PublishingYahoo:
    return PublishingYahoo(
        DAYS, RAW, dividends={DIVIDEND_ROW: DIVIDEND}, splits={SPLIT_ROW: 2.0}, published=published, step=step
    )


def engine_total_return(cache_dir) -> tuple[np.ndarray, np.ndarray, str]:
    """(forward-adjusted closes, the engine's total-return closes, the basis line) of SPY from the cache."""
    from engine.pipeline.basis import resolve_basis

    market = load_market(DataSpec.parse("yahoo:SPY"), cache_dir=cache_dir)
    basis = resolve_basis("yahoo:SPY", "reinvest", 0.0, ("SPY",), market, cache_dir=cache_dir)
    return market.close[:, 0], basis.valuation_close(market)[:, 0], basis.statement(market.dates)


def test_fetched_day_by_day_earlier_prices_and_total_return_never_change(tmp_path):
    stub = publishing()
    seen = []
    for evening in range(21):  # 10 rows, then one more each evening: the dividend and the split arrive
        report = yahoo.fetch("SPY", tmp_path, download=stub)
        assert report.corrections == ()
        assert report.full_refresh == (evening == 0)
        close, tr, _ = engine_total_return(tmp_path)
        assert len(close) == 10 + evening
        for before_close, before_tr in seen:  # bit for bit: nothing earlier was rewritten
            assert np.array_equal(close[: len(before_close)], before_close)
            assert np.array_equal(tr[: len(before_tr)], before_tr)
        seen.append((close, tr))
    assert stub.calls[0][0] == "1900-01-01"
    assert all(start > "2021-03-01" for start, _ in stub.calls[1:])  # only the recent days, after the first
    assert all(kw["actions"] is True and kw["auto_adjust"] is False for _, kw in stub.calls)
    raw = yahoo.read_raw(tmp_path, "SPY")
    assert np.array_equal(raw["close"].to_numpy(), RAW)  # Yahoo's split adjustment undone
    assert raw["dividend"][DIVIDEND_ROW] == DIVIDEND and raw["split"][SPLIT_ROW] == 2.0


def test_total_return_over_a_dividend_and_a_split_is_the_hand_computed_one(tmp_path):
    yahoo.fetch("SPY", tmp_path, download=publishing(published=30))
    close, tr, line = engine_total_return(tmp_path)
    growth = tr[1:] / tr[:-1]
    hand = np.empty(29)
    for t in range(1, 30):
        d = DIVIDEND if t == DIVIDEND_ROW else 0.0
        split = 2.0 if t == SPLIT_ROW else 1.0
        hand[t - 1] = (RAW[t] * split + d) / RAW[t - 1]  # (P_t + D_t) / P_{t-1}, in shares held before t
    np.testing.assert_allclose(growth, hand, rtol=1e-14)
    assert growth[DIVIDEND_ROW - 1] == pytest.approx((112.0 + 1.5) / 111.0, rel=1e-14)
    assert growth[SPLIT_ROW - 1] == pytest.approx(120.0 / 119.0, rel=1e-14)  # continuous over the split
    assert close[SPLIT_ROW] == 120.0 and close[SPLIT_ROW - 1] == 119.0  # forward adjusted: no jump
    assert close[0] == RAW[0]  # rows before the split are the raw closes themselves
    expected = RAW[0] * np.prod(hand)
    assert tr[-1] == pytest.approx(expected, rel=1e-13)
    assert "SPY: dividends reinvested (Yahoo dividend events)" in line


def test_a_changed_raw_close_in_the_overlap_is_reported_as_a_correction(tmp_path):
    stub = publishing(published=15, step=0)
    yahoo.fetch("SPY", tmp_path, download=stub)
    stub.raw = stub.raw.copy()
    stub.raw[13] = 114.5  # Yahoo corrected an already cached day
    stub.published = 16
    report = yahoo.fetch("SPY", tmp_path, download=stub)
    assert report.corrections == (f"{DAYS[13]}: raw close 113 -> 114.5",)
    assert yahoo.read_raw(tmp_path, "SPY")["close"][13] == 114.5


def test_an_old_format_cache_file_is_refused_for_runs_and_fetched_again(tmp_path):
    path = yahoo.cache_path(tmp_path, "SPY")
    path.parent.mkdir(parents=True)
    frame_old = pl.DataFrame(  # the old layout: bars only (adjusted closes)
        {"date": DAYS[:5].astype("datetime64[D]"), "ticker": ["SPY"] * 5, "close": RAW[:5]}
    ).with_columns(*(pl.lit(None, pl.Float64).alias(c) for c in ("open", "high", "low", "volume")))
    frame_old.write_parquet(path)
    with pytest.raises(InputError) as info:
        yahoo.read_cached(tmp_path, "SPY")
    assert "old-format Yahoo cache file" in str(info.value) and "backtest data fetch SPY" in str(info.value)
    assert "\n" not in str(info.value)
    stub = publishing(published=12, step=0)
    report = yahoo.fetch("SPY", tmp_path, download=stub)
    assert report.migrated and report.full_refresh and stub.calls[0][0] == "1900-01-01"
    assert yahoo.read_raw(tmp_path, "SPY").height == 12


def test_an_event_on_a_row_without_a_close_moves_to_the_next_close():
    frame_pd = publishing(published=14, step=0).frame(14)
    prices = frame_pd.columns.get_indexer(["Open", "High", "Low", "Close", "Adj Close"])
    frame_pd.iloc[DIVIDEND_ROW, prices] = np.nan
    raw = yahoo.raw_from_download(pl.from_pandas(frame_pd.reset_index()), "stub", "SPY")
    assert raw.height == 13
    assert raw["dividend"].to_list()[DIVIDEND_ROW] == DIVIDEND  # now on the next day with a close
    assert raw["date"][DIVIDEND_ROW] == DAYS[DIVIDEND_ROW + 1]
