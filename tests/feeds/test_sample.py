from __future__ import annotations

import datetime as dt

from feeds.sample import read_sample
from feeds.schema import BARS_SCHEMA


def test_sample_covers_index_and_20_stocks_1990_2022():
    bars = read_sample()
    assert bars.schema == BARS_SCHEMA
    tickers = sorted(bars["ticker"].unique().to_list())
    assert len(tickers) == 21 and "^GSPC" in tickers and "AAPL" in tickers
    assert bars["date"].min() == dt.date(1990, 1, 2)
    assert bars["date"].max() == dt.date(2022, 12, 28)
    gspc = bars.filter(ticker="^GSPC").sort("date")
    assert gspc.height == 8313
    # exact values of skfolio's sp500_index.csv.gz, first and last rows
    assert gspc["close"][0] == 359.69
    assert gspc["close"][-1] == 3783.22
    aapl = bars.filter(ticker="AAPL").sort("date")
    assert aapl["close"][0] == 0.264
