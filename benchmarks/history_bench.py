"""Stock-RNN benchmark: the cost of a past-only History per day, side by side in one run.

On the bundled sample's S&P 500 (8,313 days), an online strategy's access pattern
per day (build the day's History, read today's delta, the date and a 64-row window
of deltas) with

- views: History-like views of the full arrays (what the engine did before the
  History held only the past; the future stays reachable through ``.base``);
- copy: a copy of the prefix per day (past-only, but quadratic);
- buffer: the engine's :class:`strategies.history.PastBuffer`, one row appended
  per day into buffers grown by doubling (past-only, amortized O(1)).

Then the same engine run of ``lstm-stateful`` (10 seeds, hidden 64) on a prefix,
to put the per-day History cost next to a learning strategy's per-day cost.

Usage: ``python benchmarks/history_bench.py [--lstm-days N]``.
"""

from __future__ import annotations

import argparse
import time

from engine.pipeline.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.history import History, PastBuffer
from strategies.lstm import LstmStateful


def per_day_views(market) -> float:
    close, deltas, dates = market.close, market.deltas, market.dates
    start = time.perf_counter()
    for t in range(market.n_days):
        end = t + 1
        d, c, day = deltas[:end], close[:end], dates[:end][-1]
        _ = d[-1], d[max(0, end - 64) : end], c[-1], day
    return time.perf_counter() - start


def per_day_copy(market) -> float:
    close, deltas, dates = market.close, market.deltas, market.dates
    start = time.perf_counter()
    for t in range(market.n_days):
        end = t + 1
        d, c, day = deltas[:end].copy(), close[:end].copy(), dates[:end].copy()[-1]
        _ = d[-1], d[max(0, end - 64) : end], c[-1], day
    return time.perf_counter() - start


def per_day_buffer(market) -> float:
    start = time.perf_counter()
    source = PastBuffer.over(market)
    past = PastBuffer.empty(market)
    for t in range(market.n_days):
        past.append(source, t)
        history = History(past, t + 1)
        d = history.deltas
        _ = d[-1], d[max(0, t + 1 - 64) : t + 1], history.close[-1], history.today
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lstm-days", type=int, default=1500)
    args = parser.parse_args()
    market = load_market(DataSpec.parse("sample")).select(["^GSPC"])
    n = market.n_days
    timings = {}
    for name, fn in (("views", per_day_views), ("copy", per_day_copy), ("buffer", per_day_buffer)):
        timings[name] = min(fn(market) for _ in range(3))
        print(f"{name:7s}: {timings[name]:7.3f} s for {n} days ({timings[name] / n * 1e6:6.1f} us/day)")
    print(
        f"buffer / views: {timings['buffer'] / timings['views']:.2f}x; copy / views: "
        f"{timings['copy'] / timings['views']:.2f}x"
    )
    head = market.head(args.lstm_days)
    params = {"hidden": 64, "lags": 1, "warmup_years": 1.0, "ensemble": False}
    generate_targets(LstmStateful(params), head.head(200), tuple(range(10)))
    start = time.perf_counter()
    generate_targets(LstmStateful(params), head, tuple(range(10)))
    lstm = (time.perf_counter() - start) / args.lstm_days
    extra = (timings["buffer"] - timings["views"]) / n
    print(
        f"lstm-stateful (10 seeds, engine): {lstm * 1e3:.2f} ms/day; the buffer's extra cost per day "
        f"is {extra * 1e6:.1f} us = {extra / lstm * 100:.2f}% of it"
    )


if __name__ == "__main__":
    main()
