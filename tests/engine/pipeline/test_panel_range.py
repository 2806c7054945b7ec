"""A run on ``panel:`` data reads only its range and tickers, and gets the same market and result."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import load_data, prepare
from engine.pipeline.runner import execute
from feeds import panel
from feeds.errors import InputError
from feeds.market import Market
from feeds.schema import BARS_SCHEMA

pytestmark = pytest.mark.filterwarnings("ignore::feeds.errors.DataQuirkWarning")


def _bars(tickers: list[str], n: int = 1300) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    days = np.busday_offset(np.datetime64("2015-01-01"), np.arange(n), roll="forward").astype("datetime64[D]")
    frames = []
    for i, t in enumerate(tickers):
        close = 20.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.01 + 0.002 * i, n))
        keep = slice(100 * i, n)  # staggered starts: the tickers' calendars differ at the start
        frames.append(
            pl.DataFrame({"date": days[keep], "ticker": t, "close": close[keep]}).with_columns(
                open=pl.col("close"), high=pl.col("close"), low=pl.col("close"), volume=pl.lit(1e6)
            )
        )
    return pl.concat(frames).select(list(BARS_SCHEMA)).cast(dict(BARS_SCHEMA))


@pytest.fixture
def store(tmp_path):
    frame = _bars(["AAA", "BBB", "CCC", "DDD", "^IDX"])  # 2015..2019
    gone = _bars(["OLD"]).filter(pl.col("date") <= dt.date(2015, 12, 31))  # delisted before the runs
    late = _bars(["NEW"]).filter(pl.col("date") >= dt.date(2019, 9, 1))  # listed after them
    return panel.write_panel(pl.concat([frame, gone, late]), tmp_path / "panel")


def _full(config: RunConfig) -> Market:
    """The market as before the push-down: every file read, then cut to the range."""
    path = config.data.removeprefix("panel:")
    bars = panel.load_panel(path, columns=("open", "high", "low", "close", "volume"))
    return Market.from_bars(bars, origin=path).between(config.start, config.end)


def test_run_reads_only_its_years_and_tickers(store, monkeypatch):
    config = RunConfig(
        data=f"panel:{store}",
        tickers=("BBB", "CCC"),
        start=dt.date(2017, 1, 1),
        end=dt.date(2018, 12, 31),
        strategies=(StrategySpec(name="buy-and-hold"),),
    )
    read: list[pl.DataFrame] = []
    load = panel.load_panel
    monkeypatch.setattr(panel, "load_panel", lambda *a, **kw: read.append(load(*a, **kw)) or read[-1])
    scanned: list[list[str]] = []
    scan = pl.scan_parquet
    monkeypatch.setattr(pl, "scan_parquet", lambda files, **kw: scanned.append(files) or scan(files, **kw))
    market, _ = load_data(config)
    assert [p.parent.name for p in scanned[0]] == ["year=2017", "year=2018"]
    assert sorted(read[0]["ticker"].unique()) == ["BBB", "CCC", "^IDX"]  # the index for the benchmark
    assert read[0]["date"].min() >= config.start and read[0]["date"].max() <= config.end
    monkeypatch.undo()
    full = _full(config)
    for names in (["BBB", "CCC"], ["^IDX"]):
        a, b = market.select(names), full.select(names)
        assert np.array_equal(a.dates, b.dates) and np.array_equal(a.close, b.close, equal_nan=True)


def test_run_result_unchanged(store, monkeypatch):
    config = RunConfig(
        data=f"panel:{store}",
        frequency="annual",
        start=dt.date(2015, 6, 1),
        end=dt.date(2019, 6, 30),
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 2}),),
    )
    # OLD and NEW have no bar in the range: the whole read keeps them as empty columns, so does this
    for only in (None, ("AAA", "OLD", "NEW")):
        market, _ = load_data(config.model_copy(update={"tickers": only or ()}))
        full = _full(config)
        want = full.tickers if only is None else ("AAA", "NEW", "OLD", "^IDX")
        assert market.tickers == want
        assert np.array_equal(market.close, full.select(want).close, equal_nan=True)
    pushed = execute(prepare(config))
    whole = execute(prepare(config, market=_full(config)))  # every file read, then cut
    runs = [(*r.strategies, *r.benchmarks) for r in (pushed, whole)]
    assert len(runs[0]) == len(runs[1]) >= 3  # the strategy, buy-and-hold and the index
    assert np.array_equal(pushed.dates, whole.dates)
    for a, b in zip(*runs, strict=True):
        assert a.name == b.name and a.tickers == b.tickers
        assert np.array_equal(a.equity, b.equity) and np.array_equal(a.targets, b.targets, equal_nan=True)
        for f in dataclasses.fields(a.metrics):
            x, y = getattr(a.metrics, f.name), getattr(b.metrics, f.name)
            assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True), f.name


def test_a_ticker_the_panel_lacks_reads_every_ticker(store):
    # as after a whole read: the market has every ticker, and the run names the missing one
    # with all those available
    config = RunConfig(data=f"panel:{store}", tickers=("AAA", "ZZZ"), start=dt.date(2017, 1, 1))
    market, _ = load_data(config)
    assert market.tickers == _full(config).tickers
    with pytest.raises(InputError, match=r"ZZZ has no rows .*available: AAA, BBB, CCC, DDD, NEW, OLD"):
        prepare(config)
