"""A simulated month of `backtest daily` (issue 25), offline, on the real Yahoo path.

The source is Yahoo as yfinance answers it, with only ``yfinance.download`` replaced by a
recorded-response stub (``tests.feeds.yahoo_stub.PublishingYahoo``, installed by
``benchmarks/stubbed_backtest.py`` in each `backtest` subprocess); ``feeds.yahoo.fetch``, the
raw-close cache with its dividend and split events, the store, the update and the signals are
the real code. Each of 22 weekday evenings the stub publishes the sessions up to that evening:

- evening 4: the download fails twice (an empty answer, as yfinance gives when the network
  fails), then succeeds: `daily` retries with backoff (shortened to 0.05 s here);
- evening 6: that session goes ex-dividend (Yahoo rescales its adjusted past; the cache does not);
- evening 9: the provider is late, nothing new: `daily` says up to date and invents nothing;
  the next evening brings two sessions;
- evening 13: `daily` is SIGKILLed in the middle of the update (while its new run is being
  computed, in its ``.partial`` folder) and simply run again;
- evening 16: Memorial Day, a holiday: nothing is published, no signal;
- evening 18: that session is a 2:1 split (Yahoo rescales every earlier close).

After the month the tracked run is compared with `backtest run` done in one go over the whole
month: metrics, equity and weights bit for bit, and one signal per session equal to the weights
the one-go run decided that day.

    python benchmarks/daily_sim.py
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from feeds.exchange_calendar import is_session

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the repository root, for tests.feeds
from tests.feeds.yahoo_stub import PublishingYahoo  # noqa: E402

ARGS = [
    "--strategy",
    "lstm-stateful",
    "--seed-list",
    "0,1",
    "--param",
    "hidden=4",
    "--param",
    "warmup_years=0.5",
]
FIRST_EVENING, LAST_EVENING = np.datetime64("2016-05-09"), np.datetime64("2016-06-07")
FAILING, DIVIDEND_EVENING, LATE, KILLED, SPLIT_EVENING = 4, 6, 9, 13, 18  # evenings, from 1
DIVIDEND, SPLIT = 0.9, 2.0  # cash per share on the ex-date, new shares per old
KILL_AFTER_CLAIM_S = 0.1  # into the update, after it claimed the folder of its new run


def backtest(*args: str, stubbed: bool = False, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `backtest ARGS` (through the stub wrapper when ``stubbed``); the caller waits or kills it."""
    head = [str(HERE / "stubbed_backtest.py")] if stubbed else ["-m", "engine"]
    return subprocess.Popen(
        [sys.executable, *head, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def done(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate()
    return proc.returncode, out, err


def last_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[-1]


def main() -> None:
    days = np.arange(np.datetime64("2015-01-02"), LAST_EVENING + 1)
    dates = days[is_session(days)]
    evenings = [d for d in np.arange(FIRST_EVENING, LAST_EVENING + 1) if np.is_busday(d)]
    assert len(evenings) == 22
    start = int(np.searchsorted(dates, FIRST_EVENING))  # sessions published before the month
    row = {k: int(np.searchsorted(dates, evenings[k - 1])) for k in (DIVIDEND_EVENING, SPLIT_EVENING)}
    walk = 100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0.0003, 0.01, len(dates))))
    raw = walk.copy()
    raw[row[SPLIT_EVENING] :] /= SPLIT  # as traded: half the price from the split on
    with tempfile.TemporaryDirectory() as tmp:
        runs, cache = Path(tmp) / "runs", Path(tmp) / "cache"
        state, log = Path(tmp) / "stub.json", Path(tmp) / "stub.log"
        stub = PublishingYahoo(
            dates,
            raw,
            dividends={row[DIVIDEND_EVENING]: DIVIDEND},
            splits={row[SPLIT_EVENING]: SPLIT},
            published=start,
        )
        stub.save(state)
        env = {"STUB_YAHOO": str(state), "STUB_YAHOO_LOG": str(log)}
        where = ["--runs-dir", str(runs), "--cache-dir", str(cache)]
        code, _, err = done(
            backtest("data", "fetch", "SPY", "--cache-dir", str(cache), stubbed=True, env=env)
        )
        assert code == 0, err
        code, out, err = done(backtest("run", "--data", "yahoo:SPY", *ARGS, *where, "--json"))
        assert code == 0, err
        code, _, err = done(backtest("track", json.loads(out)["run_id"], "--name", "spy", *where[:2]))
        assert code == 0, err
        print(
            f"before the month: {start} sessions {dates[0]}..{dates[start - 1]} fetched, run, tracked as spy"
        )
        t0 = time.perf_counter()
        for k, evening in enumerate(evenings, start=1):
            if k != LATE:  # a late provider publishes this session with the next one
                stub.published = int(np.searchsorted(dates, evening, side="right"))
            stub.fail = 2 if k == FAILING else 0
            stub.save(state)
            calls = len(log.read_text().splitlines())
            what = {
                FAILING: "(the download fails twice)",
                DIVIDEND_EVENING: f"(ex-dividend {DIVIDEND})",
                LATE: "(the provider is late)",
                LATE + 1: "(two sessions)",
                SPLIT_EVENING: f"({SPLIT:g}:1 split)",
            }.get(k, "(holiday)" if not is_session(np.array([evening]))[0] else "")
            if k == KILLED:
                before = (runs / "tracked.json").read_text()
                proc = backtest("daily", *where, stubbed=True, env=env)
                # kill once the update has claimed its new run (``<run_id>.partial/``): mid-update
                while not list(runs.glob("*.partial")) and proc.poll() is None:
                    time.sleep(0.005)
                time.sleep(KILL_AFTER_CLAIM_S)
                running = proc.poll() is None
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                unchanged = (runs / "tracked.json").read_text() == before
                partial = [p.name for p in runs.glob("*.partial")]
                print(
                    f"evening {k} {evening}: daily SIGKILLed {KILL_AFTER_CLAIM_S} s after its update claimed "
                    f"a new run (still running: {running}; left unfinished: {partial}; tracked run "
                    f"unchanged: {unchanged}); run again"
                )
                calls = len(log.read_text().splitlines())
            code, _, err = done(backtest("daily", *where, stubbed=True, env=env))
            answers = [json.loads(x) for x in log.read_text().splitlines()[calls:]]
            failed = [a for a in answers if a["failed"]]
            tries = ""
            if failed:
                gaps = ", ".join(f"{b['t'] - a['t']:.2f}" for a, b in itertools.pairwise(answers))
                tries = f" [downloads: {len(answers)}, {len(failed)} failed, s between: {gaps}]"
            print(f"evening {k} {evening}{' ' * bool(what)}{what}: rc {code} {last_line(err)}{tries}")
        code, _, err = done(backtest("daily", *where, stubbed=True, env=env))
        print(f"a second daily the same evening: rc {code} {last_line(err)}")
        took = time.perf_counter() - t0
        tracked = json.loads((runs / "tracked.json").read_text())["runs"]["spy"]["run_id"]
        code, out, err = done(backtest("run", "--data", "yahoo:SPY", *ARGS, *where, "--json"))
        assert code == 0, err
        whole = json.loads(out)
        stored = json.loads((runs / tracked / "metrics.json").read_text())
        same_metrics = all(stored[k] == whole[k] for k in ("strategies", "benchmark", "period", "basis"))
        frames = [
            pl.read_parquet(runs / tracked / f).equals(pl.read_parquet(runs / whole["run_id"] / f))
            for f in ("equity.parquet", "weights.parquet")
        ]
        sig = sorted(p.stem for p in (runs / "signals" / "spy").glob("*.json"))
        sessions = [str(d) for d in dates[start:]]
        weights = pl.read_parquet(runs / whole["run_id"] / "weights.parquet")
        equal_signals = 0
        for day in sig:
            written = json.loads((runs / "signals" / "spy" / f"{day}.json").read_text())["weights"]
            decided = weights.filter(
                (pl.col("date").cast(pl.String) == day)
                & (pl.col("role") == "strategy")
                & (pl.col("member") == "0")
            ).sort("ticker")
            equal_signals += written["lstm-stateful"]["0"] == dict(
                zip(decided["ticker"], decided["weight"], strict=True)
            )
        holidays = [str(d) for d in evenings if not is_session(np.array([d]))[0]]
        print(f"22 evenings in {took:.1f} s")
        print(f"final tracked run == one go: metrics {same_metrics}, equity {frames[0]}, weights {frames[1]}")
        print(
            f"signals: {len(sig)} written for {len(sessions)} sessions (one each: {sig == sessions}); "
            f"equal to the one-go weights: {equal_signals}/{len(sig)}"
        )
        print(
            f"weekday holidays in the month: {holidays}; a signal for one: {bool(set(holidays) & set(sig))}"
        )
        equity = pl.read_parquet(runs / tracked / "equity.parquet").filter(
            pl.col("strategy") == "buy-and-hold"
        )
        value = dict(zip(equity["date"].cast(pl.String), equity["equity"], strict=True))
        for k, label, cash, ratio in (
            (DIVIDEND_EVENING, f"dividend {DIVIDEND}", DIVIDEND, 1.0),
            (SPLIT_EVENING, f"split {SPLIT:g}:1", 0.0, SPLIT),
        ):
            t = row[k]
            engine = value[str(dates[t])] / value[str(dates[t - 1])]
            hand = (raw[t] * ratio + cash) / raw[t - 1]
            print(
                f"{label} on {dates[t]}: buy-and-hold growth that day {engine:.12f}, "
                f"(P_t x split + D_t) / P_t-1 from the raw prices by hand {hand:.12f}"
            )
        print(whole["basis"]["statement"])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
