"""Scale benchmark: runs at S&P 500 size, time and peak memory (goal: each <= 60 s and 4 GB).

Cases, each run in its own fresh process (peak RSS is that process's ``ru_maxrss``,
read by the parent with ``os.wait4``; wall and CPU time cover the pipeline only,
after imports and data generation):

- ``annual-momentum``: ``momentum-annual``, 500 tickers x 30 years, 10 seeds
  (deterministic: one member), the whole ``execute`` pipeline (targets,
  simulation, metrics, picks, evidence) with its buy-and-hold benchmarks;
- ``annual-lstm``: ``lstm-annual``, the same universe, 10 seeds (+ ensemble);
- ``annual-transformer``: ``transformer-annual``, the same universe, 10 seeds (+ ensemble);
- ``daily-sim``: a daily run of ``ma-trend`` over 500 tickers x 8,300 days (every
  ticker re-targeted at every close: about four million fills);
- ``panel-load``: the 500 x 30-year bars (all five bar fields) read into a
  ``Market``, before/after side by side: *before* from the per-ticker Yahoo cache
  (``yahoo:T1,...``: 500 Parquet files read whole), *after* from the
  year-partitioned panel dataset (``feeds.panel.load_panel``: close only, the
  run's range, validated). The parent writes both stores to a temporary folder
  first; the children only read.
- ``panel-range``: a run's data load (``engine.pipeline.prepare.load_data``) of
  ``panel:`` over its last 10 of 30 years (``--start 2010-01-01``): with the range
  pushed into the load only those years' files are read (compare with
  ``--before``, whose code reads every file and then cuts).

Torch and vectorbt are imported before the clock starts (their import, about
4 s each on a cold machine, is the pipeline benchmark's subject); the last column
is the whole process's CPU time (imports and data generation included).
``--compare`` adds, side by side, each annual case with the old dense simulation
(the fill kernel over every day and all members at once: ``_order_rows`` returning every row, no
chunks), for its time and memory.

The data are synthetic (no 500-ticker file is bundled), from a one-factor model
of daily returns: a market factor with 1%/day volatility and a small drift, each
stock with beta in [0.5, 1.5] and idiosyncratic volatility of 15-45% a year; a
third of the tickers list later than the first day (staggered IPOs) and a fifth
delist before the end (their prices stop), so the universe changes over time as
an index's does. An equal-weight index ``^SYN`` of the factor is the extra
benchmark. The generator is seeded: every run sees the same data.

``--before DIR`` runs every case also with another checkout's code (``git archive
main | tar -x -C DIR``; the child gets ``PYTHONPATH=DIR``), just before the same
case with this checkout's, so before and after are measured side by side under
the same machine load; ``--repeat N`` runs that sequence N times.

Usage: ``python benchmarks/scale_bench.py [--case NAME ...] [--tickers 500] [--before DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from feeds.market import Market

CASES = {
    "annual-momentum": ("annual", ("momentum-annual",), 30),
    "annual-lstm": ("annual", ("lstm-annual",), 30),
    "annual-transformer": ("annual", ("transformer-annual",), 30),
    "daily-sim": ("daily", ("ma-trend",), 8300),
}
PANEL_CASES = ("panel-load", "panel-range")
LIMIT_S, LIMIT_GB = 60.0, 4.0


def synthetic_market(n_tickers: int, n_days: int, seed: int = 0) -> Market:
    """A one-factor panel of ``n_tickers`` stocks plus the index ``^SYN``; see the module docstring."""
    rng = np.random.default_rng(seed)
    dates = np.busday_offset(np.datetime64("1990-01-02"), np.arange(n_days), roll="forward")
    factor = rng.normal(0.0003, 0.01, n_days)
    beta = rng.uniform(0.5, 1.5, n_tickers)
    idio = rng.uniform(0.15, 0.45, n_tickers) / np.sqrt(252)
    returns = factor[:, None] * beta + rng.normal(0.0, 1.0, (n_days, n_tickers)) * idio
    close = 20.0 * np.exp(np.cumsum(np.log1p(np.clip(returns, -0.9, None)), axis=0))
    listed = np.where(rng.random(n_tickers) < 1 / 3, rng.integers(0, int(n_days * 0.7), n_tickers), 0)
    delisted = np.where(
        rng.random(n_tickers) < 0.2, rng.integers(int(n_days * 0.3), n_days - 1, n_tickers), n_days
    )
    delisted = np.maximum(delisted, listed + 300)
    rows = np.arange(n_days)[:, None]
    close[(rows < listed) | (rows >= delisted)] = np.nan
    index = 1000.0 * np.cumprod(1.0 + factor)
    tickers = tuple(f"S{i:03d}" for i in range(n_tickers))
    return Market(
        dates=dates.astype("datetime64[D]"),
        tickers=(*tickers, "^SYN"),
        close=np.column_stack([close, index]),
        origin="synthetic",
    )


def synthetic_bars(n_tickers: int, n_days: int):  # -> pl.DataFrame (BARS_SCHEMA)
    """The synthetic market as a long bars frame, every bar field filled (open/high/low from the close)."""
    import polars as pl

    from feeds.schema import BARS_SCHEMA

    market = synthetic_market(n_tickers, n_days)
    frames = []
    for j, ticker in enumerate(market.tickers[:-1]):
        close = market.close[:, j]
        keep = ~np.isnan(close)
        c = close[keep]
        frames.append(
            pl.DataFrame(
                {
                    "date": market.dates[keep],
                    "ticker": ticker,
                    "open": c,
                    "high": c * 1.01,
                    "low": c * 0.99,
                    "close": c,
                    "volume": 1e6,
                }
            )
        )
    return pl.concat(frames).cast(dict(BARS_SCHEMA))


def write_stores(n_tickers: int, folder: str) -> None:
    """The per-ticker Yahoo cache and the panel dataset of the synthetic bars, under ``folder``."""
    from pathlib import Path

    import polars as pl

    from feeds import panel, yahoo

    bars = synthetic_bars(n_tickers, 30 * 252)
    for (ticker,), part in bars.group_by("ticker"):
        path = yahoo.cache_path(Path(folder), str(ticker))
        path.parent.mkdir(parents=True, exist_ok=True)
        # the cache's format: raw bars with dividend and split events (none here)
        part.sort("date").with_columns(dividend=pl.lit(0.0), split=pl.lit(0.0)).write_parquet(path)
    panel.write_panel(bars, Path(folder) / "panel")


def run_panel_case(folder: str, before: bool, name: str = "panel-load") -> dict[str, float]:
    """Load the stores of ``write_stores`` into a Market; wall and CPU seconds."""
    from pathlib import Path

    if name == "panel-range":
        import datetime as dt

        from engine.config.run_config import RunConfig
        from engine.pipeline.prepare import load_data

        config = RunConfig(data=f"panel:{folder}/panel", frequency="annual", start=dt.date(2010, 1, 1))
        wall, cpu = time.perf_counter(), time.process_time()
        market, _ = load_data(config)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"wall_s": wall, "cpu_s": cpu, "days": float(market.n_days), "strategies": 0}

    from feeds import panel, yahoo
    from feeds.market import Market
    from feeds.sources import DataSpec, load_bars

    wall, cpu = time.perf_counter(), time.process_time()
    if before:
        spec = DataSpec.parse("yahoo:" + ",".join(yahoo.cached_tickers(Path(folder))))
        bars = load_bars(spec, cache_dir=Path(folder))
    else:
        bars = panel.load_panel(Path(folder) / "panel", columns=("close",))
    market = Market.from_bars(bars, origin="bench")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "days": float(market.n_days), "strategies": 0}


def run_case(name: str, n_tickers: int, dense: bool = False) -> dict[str, float]:
    """Run one case in this process; returns wall and CPU seconds of the pipeline."""
    import vectorbt  # noqa: F401 - imported before the clock, as before (see the module docstring)

    import engine.pipeline.simulate
    from engine.config.run_config import RunConfig, StrategySpec
    from engine.pipeline.prepare import prepare
    from engine.pipeline.runner import execute
    from strategies.registry import resolve

    if dense:  # the old path: every day, every member in one call of the fill kernel
        engine.pipeline.simulate._order_rows = lambda orders: np.arange(len(orders))
        engine.pipeline.simulate.CHUNK_CELLS = 10**12

    frequency, strategies, size = CASES[name]
    for strategy in strategies:
        resolve(strategy)  # imports torch for the learned ones
    n_days = size * 252 if frequency == "annual" else size
    market = synthetic_market(n_tickers, n_days)
    tickers = market.tickers[:-1] if frequency == "daily" else ()
    config = RunConfig(
        strategies=tuple(StrategySpec(name=s) for s in strategies),
        frequency=frequency,
        tickers=tickers,
        seeds=tuple(range(10)),
    )
    wall, cpu = time.perf_counter(), time.process_time()
    result = execute(prepare(config, market=market))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "days": float(market.n_days), "strategies": len(result.strategies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case", action="append", choices=sorted([*CASES, *PANEL_CASES]), help="run only these cases"
    )
    parser.add_argument("--tickers", type=int, default=500)
    parser.add_argument("--compare", action="store_true", help="also the old dense simulation (annual)")
    parser.add_argument("--before", help="another checkout's code, run side by side (before each case)")
    parser.add_argument("--repeat", type=int, default=1, help="run the whole sequence this many times")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dense", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stores", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import warnings

        warnings.simplefilter("ignore")  # synthetic days off the exchange calendar: a warning per load
    if args.child in PANEL_CASES:
        print(json.dumps(run_panel_case(args.stores, before=args.dense, name=args.child)))
        return
    if args.child:
        print(json.dumps(run_case(args.child, args.tickers, args.dense)))
        return
    print(f"scale: {args.tickers} synthetic tickers, 10 seeds; limits {LIMIT_S:.0f} s and {LIMIT_GB:.0f} GB")
    print(
        f"{'case':<52} {'days':>6} {'wall s':>8} {'cpu s':>8} {'peak RSS GB':>12}  within limits"
        "  process cpu s"
    )
    runs = [(name, False) for name in args.case or [*CASES, *PANEL_CASES]]
    if args.compare:
        runs = [
            r
            for name, _ in runs
            for r in [(name, False)] + [(name, True)] * (name in CASES and CASES[name][0] == "annual")
        ]
    # the panel load always runs side by side: before (per-ticker cache files), after (panel dataset)
    runs = [
        r
        for name, dense in runs
        for r in ([(name, True), (name, False)] if name == "panel-load" else [(name, dense)])
    ]
    # with --before: each case first with the other checkout's code, then with this one's
    trees = [args.before, None] if args.before else [None]
    runs = [(name, dense, tree) for _ in range(args.repeat) for name, dense in runs for tree in trees]
    stores = tempfile.mkdtemp(prefix="scale-bench-") if any(n in PANEL_CASES for n, _, _ in runs) else ""
    if stores:
        write_stores(args.tickers, stores)
    for name, dense, tree in runs:
        if name == "panel-load":
            label = f"{name} ({'before: per-ticker files' if dense else 'after: panel dataset'})"
        elif name == "panel-range":
            label = f"{name} (panel: from 2010 of 1990-2019)"
        else:
            label = f"{name} (old dense sim)" if dense else name
        label = f"{label} [{'before' if tree else 'now'}]" if args.before else label
        cmd = [sys.executable, __file__, "--child", name, "--tickers", str(args.tickers), "--stores", stores]
        cmd += ["--dense"] if dense else []
        env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)} if tree else None
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            print(f"{label:<52} failed (exit {proc.returncode})")
            continue
        got = json.loads(out.strip().splitlines()[-1])
        peak_gb = usage.ru_maxrss * 1024 / 1e9  # Linux: kilobytes
        ok = got["wall_s"] <= LIMIT_S and peak_gb <= LIMIT_GB
        print(
            f"{label:<52} {int(got['days']):>6} {got['wall_s']:>8.1f} {got['cpu_s']:>8.1f} "
            f"{peak_gb:>12.2f}  {'yes' if ok else 'NO ':<13} {usage.ru_utime + usage.ru_stime:>13.1f}",
            flush=True,
        )
    if stores:
        shutil.rmtree(stores, ignore_errors=True)


if __name__ == "__main__":
    main()
