"""A simulated month of `backtest daily` (issue 25), offline: one more session published each evening.

The source is a CSV of raw closes that grows by one XNYS session per evening (so a holiday
publishes nothing), with a dividend file (``--dividends csv:PATH``, ex-date amounts) that gains
an ex-date on evening 9: the dividend enters the total return from its ex-date on and changes no
earlier price, the way the Yahoo cache's dividend events do (``feeds.yahoo``). One evening is
late (its session arrives the evening after, two at once), and on one evening `backtest daily`
is SIGKILLed part-way through and simply run again. After 22 evenings the tracked run is
compared with `backtest run` done in one go over the whole month: metrics, equity and weights
bit for bit, and one signal per session equal to the weights the one-go run decided.

    python benchmarks/daily_sim.py
"""

from __future__ import annotations

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
from feeds.market import Market

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


def backtest(*args: str, runs: Path, kill_after: float | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "engine", *args, "--runs-dir", str(runs)]
    if kill_after is None:
        return subprocess.run(cmd, capture_output=True, text=True, check=False)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, -9, out, err)


def write_csv(path: Path, dates: np.ndarray, close: np.ndarray, rows: int) -> None:
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    lines += [
        f"{d},{c:.6f},{c:.6f},{c:.6f},{c:.6f},{c:.6f},1000"
        for d, c in zip(dates[:rows], close[:rows], strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


DIVIDEND_EVENING, DIVIDEND = 9, 1.25  # the evening whose session goes ex, the cash per share


def write_dividends(path: Path, dates: np.ndarray, rows: int, ex_date: np.datetime64) -> None:
    """The dividend file as published by the evening that publishes ``rows`` sessions.

    It always holds the previous quarter's dividend (a file needs a row), and ``ex_date``'s from then on.
    """
    lines = ["date,dividend", f"{dates[len(dates) - 22 - 60]},{DIVIDEND}"]
    lines += [f"{ex_date},{DIVIDEND}"] if ex_date <= dates[rows - 1] else []
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    days = np.arange(np.datetime64("2015-01-02"), np.datetime64("2017-01-31"))
    dates = days[is_session(days)]
    close = 100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0.0003, 0.01, len(dates))))
    _ = Market  # the CSV is what the source publishes
    with tempfile.TemporaryDirectory() as tmp:
        data, runs = Path(tmp) / "IDX.csv", Path(tmp) / "runs"
        divs = Path(tmp) / "dividends.csv"
        start = len(dates) - 22
        ex_row = start + DIVIDEND_EVENING - 1
        args = [*ARGS, "--dividends", f"csv:{divs}"]
        write_csv(data, dates, close, start)
        write_dividends(divs, dates, start, dates[ex_row])
        first = json.loads(backtest("run", "--data", f"csv:{data}", *args, "--json", runs=runs).stdout)[
            "run_id"
        ]
        backtest("track", first, "--name", "idx", runs=runs)
        t0 = time.perf_counter()
        published = start
        for evening in range(22):
            late = evening == 6  # the provider is late: this session comes tomorrow with the next one
            if not late:
                published = start + evening + 1
            write_csv(data, dates, close, published)
            write_dividends(divs, dates, published, dates[ex_row])
            if evening == 12:
                killed = backtest("daily", runs=runs, kill_after=3.0)
                print(f"evening {evening + 1}: daily SIGKILLed part-way (rc {killed.returncode}); run again")
            done = backtest("daily", runs=runs)
            print(
                f"evening {evening + 1}: rc {done.returncode} "
                + (done.stderr.strip().splitlines() or [""])[-1]
            )
        again = backtest("daily", runs=runs)
        print("a second daily the same evening:", again.stderr.strip().splitlines()[-1])
        took = time.perf_counter() - t0
        tracked = json.loads((runs / "tracked.json").read_text())["runs"]["idx"]["run_id"]
        whole = json.loads(backtest("run", "--data", f"csv:{data}", *args, "--json", runs=runs).stdout)
        stored = json.loads((runs / tracked / "metrics.json").read_text())
        same_metrics = all(stored[k] == whole[k] for k in ("strategies", "benchmark", "period"))
        frames = [
            pl.read_parquet(runs / tracked / f).equals(pl.read_parquet(runs / whole["run_id"] / f))
            for f in ("equity.parquet", "weights.parquet")
        ]
        sig = sorted(p.stem for p in (runs / "signals" / "idx").glob("*.json"))
        sessions = [str(d) for d in dates[start : start + 22]]
        weights = pl.read_parquet(runs / whole["run_id"] / "weights.parquet")
        equal_signals = 0
        for day in sig:
            written = json.loads((runs / "signals" / "idx" / f"{day}.json").read_text())["weights"][
                "lstm-stateful"
            ]
            decided = weights.filter(
                (pl.col("date").cast(pl.String) == day)
                & (pl.col("role") == "strategy")
                & (pl.col("member") == "0")
            ).sort("ticker")
            equal_signals += written["0"] == dict(zip(decided["ticker"], decided["weight"], strict=True))
        print(f"22 evenings in {took:.1f} s")
        print(f"final tracked run == one go: metrics {same_metrics}, equity {frames[0]}, weights {frames[1]}")
        print(
            f"signals: {len(sig)} written for {len(sessions)} sessions (one each: {sig == sessions}); "
            f"equal to the one-go weights: {equal_signals}/{len(sig)}"
        )
        holidays = [
            str(d)
            for d in days[(days > dates[start]) & (days <= dates[start + 21])]
            if not is_session(np.array([d]))[0] and d.astype("datetime64[D]").astype(object).weekday() < 5
        ]
        print(f"weekday holidays in the month (no signal): {holidays}")
        equity = pl.read_parquet(runs / tracked / "equity.parquet").filter(
            pl.col("strategy") == "buy-and-hold"
        )
        value = dict(zip(equity["date"].cast(pl.String), equity["equity"], strict=True))
        engine = value[str(dates[ex_row])] / value[str(dates[ex_row - 1])]
        hand = (round(close[ex_row], 6) + DIVIDEND) / round(close[ex_row - 1], 6)
        print(
            f"dividend {DIVIDEND} ex {dates[ex_row]}: buy-and-hold growth that day {engine:.12f}, "
            f"(P_t + D_t) / P_t-1 by hand {hand:.12f}; basis: {whole['basis']['dividends']}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
