"""Engine benchmark: our simulation + metrics vs raw vectorbt, side by side in one process.

Workload: 1,000 weight columns (long/flat signals of different moving-average
windows and random switching) on the bundled S&P 500 sample (8,313 days), 5 bps
costs. Both sides are compiled (warmed) first, then timed alternately; the best
of ``--repeat`` runs counts.

- ours: ``engine.pipeline.simulate.simulate`` + ``engine.pipeline.metrics.compute_metrics``
  (equity, exposure, P&L, turnover, fees, every metric of a run);
- raw vectorbt: ``Portfolio.from_orders`` + ``value()`` + vectorbt's own
  ``total_return``, ``annualized_return``, ``sharpe_ratio``, ``max_drawdown``.

Then the wall time of a cold ``backtest run --strategy buy-and-hold`` (a fresh
process: interpreter start, imports, numba cache load, run, store).

Usage: ``python benchmarks/engine_bench.py [--columns 1000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from engine.pipeline.metrics import compute_metrics
from engine.pipeline.simulate import Costs, simulate
from feeds.sources import DataSpec, load_market


def weights(close: np.ndarray, columns: int, seed: int = 0) -> np.ndarray:
    """(n_days, columns) long/flat targets: half MA rules, half random switching."""
    rng = np.random.default_rng(seed)
    n = len(close)
    out = np.empty((n, columns))
    csum = np.r_[0.0, np.cumsum(close)]
    for c in range(columns):
        if c % 2 == 0:
            window = 5 + c % 300
            ma = np.full(n, np.nan)
            ma[window - 1 :] = (csum[window:] - csum[:-window]) / window
            out[:, c] = np.where(close > ma, 1.0, 0.0)
        else:
            out[:, c] = (rng.random(n) > 0.3).astype(float)
    return out


def ours(close: np.ndarray, w: np.ndarray, dates: np.ndarray) -> np.ndarray:
    sim = simulate(close[:, None], w[:, :, None], dates, Costs(5.0))
    m = compute_metrics(
        dates,
        sim.equity,
        exposure=sim.exposure,
        traded_value=sim.traded_value,
        fees=sim.fees,
        position_pnl=sim.position_pnl,
        n_orders=sim.n_orders,
    )
    return m.cagr


def raw_vectorbt(close: np.ndarray, w: np.ndarray, dates: np.ndarray) -> np.ndarray:
    import vectorbt as vbt

    index = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
    frame = pd.DataFrame(np.repeat(close[:, None], w.shape[1], axis=1), index=index)
    pf = vbt.Portfolio.from_orders(
        frame, size=w, size_type="targetpercent", fees=5e-4, init_cash=1.0, freq="1D"
    )
    pf.value()
    pf.total_return()
    pf.sharpe_ratio()
    pf.max_drawdown()
    return pf.annualized_return().to_numpy()


def cold_run_seconds() -> float:
    with tempfile.TemporaryDirectory() as runs:
        env = {**os.environ, "STOCKRNN_RUNS_DIR": runs}
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "engine.cli", "run", "--strategy", "buy-and-hold", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    market = load_market(DataSpec.parse("sample")).select(["^GSPC"])
    close, dates = market.close[:, 0], market.dates
    w = weights(close, args.columns)
    print(f"workload: {args.columns} weight columns x {len(close)} days, 5 bps costs")
    ours(close, w[:, :2], dates)  # compile both paths first
    raw_vectorbt(close, w[:, :2], dates)
    timings: dict[str, list[float]] = {"ours": [], "raw": []}
    for _ in range(args.repeat):
        for name, fn in (("ours", ours), ("raw", raw_vectorbt)):
            start = time.perf_counter()
            fn(close, w, dates)
            timings[name].append(time.perf_counter() - start)
    best_ours, best_raw = min(timings["ours"]), min(timings["raw"])
    print(f"ours  (simulate + all metrics):        best {best_ours:6.2f} s  runs {timings['ours']}")
    print(f"raw vectorbt (from_orders + 4 metrics): best {best_raw:6.2f} s  runs {timings['raw']}")
    print(f"ratio ours / raw vectorbt: {best_ours / best_raw:.2f}x (wanted <= 1.20x)")
    cold = [cold_run_seconds() for _ in range(2)]
    print(
        f"cold `backtest run --strategy buy-and-hold` (fresh process): {min(cold):.2f} s "
        f"(runs: {', '.join(f'{c:.2f}' for c in cold)})"
    )


if __name__ == "__main__":
    main()
