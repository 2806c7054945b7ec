"""Universe fetch in batches, resume after a kill, retries, coverage: the download stubbed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feeds import universe_fetch as uf, yahoo
from feeds.universe import read_universe_file

TODAY = dt.date(2021, 1, 4)


def bars(start: str, n: int) -> pd.DataFrame:
    index = pd.bdate_range(start, periods=n, name="Date")
    close = 100 + np.arange(n, dtype=float)
    return pd.DataFrame(
        {
            "Open": close,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close,
            "Volume": 1e6,
        },
        index=index,
    )


class Killed(BaseException):
    """Stands for a kill half-way (BaseException, as KeyboardInterrupt: no retry catches it)."""


class BatchStub:
    """Stands in for yfinance.download, for a list (a batch, columns (ticker, field)) or one ticker."""

    def __init__(
        self, known: set[str], *, kill_after: int | None = None, flaky: dict[str, int] | None = None
    ):
        self.known = known
        self.kill_after = kill_after
        self.flaky = dict(flaky or {})  # ticker -> how many answers still leave it out
        self.batches: list[list[str]] = []
        self.singles: list[str] = []
        self.data = bars("2020-01-01", 40)

    def _present(self, ticker: str) -> bool:
        if ticker not in self.known:
            return False
        if self.flaky.get(ticker, 0) > 0:
            self.flaky[ticker] -= 1
            return False
        return True

    def __call__(self, tickers, start, **kwargs):
        if isinstance(tickers, str):
            self.singles.append(tickers)
            data = self.data if self._present(tickers) else pd.DataFrame()
            return data[data.index >= pd.Timestamp(start)] if len(data) else data
        if self.kill_after is not None and len(self.batches) >= self.kill_after:
            raise Killed
        self.batches.append(list(tickers))
        data = self.data[self.data.index >= pd.Timestamp(start)]
        parts = {}
        for t in tickers:
            part = data.copy()
            if not self._present(t):
                part[:] = np.nan  # yfinance leaves a failed ticker's columns empty
            parts[t] = part
        return pd.concat(parts, axis=1)


def names(n: int) -> list[str]:
    return [f"T{i:03d}" for i in range(n)]


def fetch(stub: BatchStub, tmp_path: Path, tickers: list[str], **kw) -> uf.UniverseFetchReport:
    sleeps: list[float] = []
    kw.setdefault("sleep", sleeps.append)
    return uf.fetch_universe(tickers, tmp_path, download=stub, batch_size=50, today=TODAY, **kw)


def test_500_tickers_killed_half_way_resume_fetches_only_what_is_missing(tmp_path):
    tickers = names(500)
    first = BatchStub(set(tickers), kill_after=5)
    with pytest.raises(Killed):
        fetch(first, tmp_path, tickers)
    done = {t for b in first.batches for t in b}
    assert len(done) == 250 and len(yahoo.cached_tickers(tmp_path)) == 250
    progress = uf.read_progress(tmp_path)
    assert set(progress) == done and all(e["status"] == "ok" for e in progress.values())

    again = BatchStub(set(tickers))
    report = fetch(again, tmp_path, tickers)
    asked = [t for b in again.batches for t in b]
    assert sorted(asked) == sorted(set(tickers) - done)  # only the missing half, each once
    assert len(again.batches) == 5 and not again.singles
    assert sorted(report.skipped) == sorted(done) and len(report.fetched) == 250 and not report.failed
    assert len(yahoo.cached_tickers(tmp_path)) == 500
    assert yahoo.read_cached(tmp_path, "T499").height == 40

    # a third call the same day has nothing left to do; the next day refreshes incrementally
    assert fetch(BatchStub(set(tickers)), tmp_path, tickers).skipped == sorted(tickers)
    later = BatchStub(set(tickers))
    uf.fetch_universe(tickers[:50], tmp_path, download=later, today=TODAY + dt.timedelta(days=1), sleep=print)
    assert len(later.batches) == 1 and later.data.index[-1] > pd.Timestamp("2020-02-01")


def test_a_failing_ticker_is_retried_then_reported_and_the_rest_proceed(tmp_path):
    tickers = names(120)
    gone = {"T007", "T070"}  # never served (delisted, say)
    flaky = {"T033": 2}  # left out of the batch and the first retry, served on the second
    stub = BatchStub(set(tickers) - gone, flaky=flaky)
    sleeps: list[float] = []
    report = fetch(stub, tmp_path, tickers, sleep=sleeps.append, retries=3, backoff_s=2.0, pause_s=1.0)
    assert set(report.failed) == gone
    assert "Yahoo returned no data for T007" in report.failed["T007"]
    assert len(report.fetched) == 118 and "T033" in report.fetched
    assert stub.singles.count("T007") == 4 and stub.singles.count("T033") == 2  # 1 + 3 retries; 2 tries
    assert sleeps.count(1.0) == 2 and sleeps.count(2.0) >= 3 and sleeps.count(8.0) == 2  # pauses, backoff
    progress = uf.read_progress(tmp_path)
    assert progress["T007"]["status"] == "failed" and progress["T033"]["status"] == "ok"
    # a resume retries the failed ones only
    again = BatchStub(set(tickers) - gone)
    report = fetch(again, tmp_path, tickers)
    assert sorted(t for b in again.batches for t in b) == sorted(gone) and set(report.failed) == gone


def test_a_batch_that_raises_is_retried_with_backoff(tmp_path):
    stub = BatchStub(set(names(10)))
    calls = {"n": 0}

    def rate_limited(tickers, start, **kw):
        if not isinstance(tickers, str) and calls["n"] < 2:
            calls["n"] += 1
            raise RuntimeError("YFRateLimitError: Too Many Requests")
        return stub(tickers, start, **kw)

    sleeps: list[float] = []
    report = uf.fetch_universe(names(10), tmp_path, download=rate_limited, today=TODAY, sleep=sleeps.append)
    assert len(report.fetched) == 10 and report.batches == 3 and sleeps == [2.0, 4.0]


def test_universe_tickers_and_coverage_by_year(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(
        "ticker,start,end\nAAA,2018-01-01,\nBBB,2018-01-01,2019-06-30\nCCC,2019-07-01,\nbrk.b,2018-01-01,\n"
    )
    universe = read_universe_file(members)
    assert uf.universe_tickers(universe, dt.date(2018, 1, 1), dt.date(2020, 12, 31)) == [
        "AAA",
        "BBB",
        "BRK-B",
        "CCC",
    ]
    assert uf.universe_tickers(universe, dt.date(2019, 7, 1), dt.date(2020, 12, 31)) == [
        "AAA",
        "BRK-B",
        "CCC",
    ]
    ranges = {
        "AAA": (dt.date(2010, 1, 4), dt.date(2020, 12, 31)),
        "BRK-B": (dt.date(2010, 1, 4), dt.date(2020, 12, 31)),
        "CCC": (dt.date(2020, 3, 2), dt.date(2020, 12, 31)),  # listed late: no data at 2019's end
    }
    rows = uf.coverage_by_year(universe, ranges, 2018, 2020)
    assert [(r["year"], r["members"], r["with_data"], r["missing"]) for r in rows] == [
        (2018, 3, 2, ["BBB"]),
        (2019, 3, 2, ["CCC"]),
        (2020, 3, 3, []),
    ]
    assert rows[0]["share"] == pytest.approx(2 / 3) and rows[0]["weight_missing"] is None
    lines = uf.coverage_report_lines(universe.spec, rows)
    assert "2018:   2 of   3 members ( 66.7%)" in lines[1] and "LOW" in lines[1] and "missing BBB" in lines[1]
    assert "LOW" not in lines[3]


def test_cached_ranges_read_the_cache(tmp_path):
    stub = BatchStub({"AAA", "BRK-B"})
    uf.fetch_universe(["AAA", "brk.b"], tmp_path, download=stub, today=TODAY, sleep=lambda s: None)
    got = uf.cached_ranges(tmp_path)
    assert set(got) == {"AAA", "BRK-B"} and got["AAA"][0] == dt.date(2020, 1, 1)


@pytest.mark.slow
def test_a_sigkilled_fetch_resumes_with_only_the_missing(tmp_path):
    """A real kill (SIGKILL, no cleanup) after 3 of 6 batches: the resume asks for the other 3 only."""
    import os
    import signal
    import subprocess
    import sys
    import time

    marker = tmp_path / "three-batches-done"
    script = f"""
import datetime as dt, pathlib, time
from feeds import universe_fetch as uf
from tests.feeds.test_universe_fetch import BatchStub, names
stub = BatchStub(set(names(300)))
def download(tickers, start, **kw):
    if not isinstance(tickers, str) and len(stub.batches) == 3:
        pathlib.Path({str(marker)!r}).touch()
        time.sleep(120)  # killed here
    return stub(tickers, start, **kw)
uf.fetch_universe(names(300), pathlib.Path({str(tmp_path)!r}), download=download, batch_size=50,
                  today=dt.date({TODAY.year}, {TODAY.month}, {TODAY.day}), sleep=lambda s: None)
"""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 120
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the child did not reach its third batch"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert len(yahoo.cached_tickers(tmp_path)) == 150
    again = BatchStub(set(names(300)))
    report = fetch(again, tmp_path, names(300))
    assert sorted(t for b in again.batches for t in b) == names(300)[150:]
    assert len(report.skipped) == 150 and len(report.fetched) == 150
