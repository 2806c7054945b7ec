"""What the exchange calendar and a point-in-time universe cost a run, measured side by side.

Each measurement runs in a fresh Python process (pandas and the project's feeds
imported first, as in a run), so import and build costs are counted once:

1. the XNYS session table built by exchange-calendars (no disk cache);
2. the same table loaded from the disk cache (what every later process does);
3. the S&P 500 universe mask over the bundled 20 stocks, 2004-12-30..2022-12-28
   (pitindex import and one membership query per year end).

Usage: ``python benchmarks/calendar_bench.py [--repeat 3]``. Prints medians and
the ratio build / cached load. Timings on a shared machine are noisy: compare
the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = "import time, pandas, feeds; "
CALENDAR = PRELUDE + (
    "t = time.perf_counter(); from feeds.exchange_calendar import session_table; session_table(); "
    "print(time.perf_counter() - t)"
)
UNIVERSE = PRELUDE + (
    "import datetime as dt; from engine.pipeline.universe_mask import apply_universe; "
    "from feeds.sample import read_sample; from feeds.market import Market; "
    "m = Market.from_bars(read_sample()).between(dt.date(2004, 12, 30), None); "
    "m = m.select([x for x in m.tickers if not x.startswith('^')]); "
    "m.year_end; from feeds.exchange_calendar import session_table; session_table(); "
    "t = time.perf_counter(); apply_universe(m, 'sp500', 'annual'); print(time.perf_counter() - t)"
)


def timed(code: str, cache: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STOCKRNN_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    built, loaded, universe = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            built.append(timed(CALENDAR, cache))  # empty cache: builds and stores
            loaded.append(timed(CALENDAR, cache))  # reads it back
            universe.append(timed(UNIVERSE, cache))
    b, c, u = statistics.median(built), statistics.median(loaded), statistics.median(universe)
    print(f"XNYS table built (exchange-calendars): {b * 1000:8.1f} ms")
    print(f"XNYS table from the disk cache:         {c * 1000:8.1f} ms   (build / cached = {b / c:.0f}x)")
    print(f"S&P 500 universe mask, 18 year ends:    {u * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
