"""Transformer benchmark: today's defaults against the old ones, time and out-of-sample loss.

Side by side in one process, on the bundled sample, ten seeds:

1. Walk-forward ``transformer`` on the S&P 500 index (8,313 days, 60-day windows,
   d_model 32, 2 layers, yearly retrain, a prediction every day; no ensemble member):
   - before: the old defaults, ``attention=explicit`` (softmax written out),
     ``head_init=uniform`` (random output layer) and ``update_samples=512`` (every
     warm-started retrain draws as many windows as the first fit): the old
     implementation's results bit for bit;
   - after: the defaults (torch's fused attention kernel, a zero output layer,
     64 windows per seed, one mini-batch, at each later retrain).
   Out-of-sample loss per seed: the mean squared error of each day's predicted delta
   against the delta that followed (days from the first fit on, in %^2), beside
   the error of always predicting 0 (daily index deltas are close to unpredictable:
   a model is good here when it does not lose to 0).
2. ``transformer-annual`` over the 20 bundled stocks x 33 years, before (old
   defaults: ``attention=explicit``, ``head_init=uniform``, 100 + 25 steps) and
   after (zero output layer, fused attention, 25 + 5 steps); out-of-sample loss:
   squared error of each year-end's predicted next-year delta of every eligible
   stock against its realized delta (%^2 / 100), per seed.
3. ``momentum-annual`` and ``lstm-annual`` on the same stocks: wall time.

Wall times on a shared machine are inflated by other processes; CPU time
(``time.process_time``) is printed beside them and is the fairer ratio.

``--end-to-end`` also times ``backtest run --strategy transformer`` (ten seeds, the
bundled sample, as a user starts it: a fresh process, start-up, data, the model,
simulation, evidence, the store) and prints its time as a share of the old
defaults' walk-forward alone (the anchor of issue 28, goal <= 0.3); ``--before DIR``
times another checkout's command beside it (``git archive <commit> | tar -x -C DIR``);
``--daily-only`` skips parts 2 and 3.

Usage: ``python benchmarks/transformer_bench.py [--skip-before] [--end-to-end [--before DIR]]
[--daily-only]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.drive import generate_targets
from feeds.market import Market
from feeds.sources import DataSpec, load_market
from strategies.annual import TransformerAnnual
from strategies.history import History
from strategies.registry import resolve
from strategies.transformer import Transformer

SEEDS = tuple(range(10))
OLD_DAILY = {"attention": "explicit", "head_init": "uniform", "update_samples": 512}
OLD_ANNUAL = {"attention": "explicit", "head_init": "uniform", "steps": 100, "update_steps": 25}


class RecordingTransformer(Transformer):
    """Keeps every day's predictions (row -> (seeds, tickers))."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        super().begin(history, seeds)
        self.record: dict[int, np.ndarray] = {}

    def predict(self, history: History) -> np.ndarray:
        predicted = super().predict(history)
        self.record[history.n_days - 1] = predicted
        return predicted


class RecordingAnnual(TransformerAnnual):
    """Keeps every year end's predictions (row -> (columns, (seeds, columns)))."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        super().begin(history, seeds)
        self.record: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def predict(self, history: History) -> tuple[np.ndarray, np.ndarray]:
        columns, predicted = super().predict(history)
        self.record[history.n_days - 1] = (columns, predicted)
        return columns, predicted


def timed(strategy: Any, market: Market) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    generate_targets(strategy, market, SEEDS)
    return time.perf_counter() - wall, time.process_time() - cpu


def daily_loss(strategy: RecordingTransformer, market: Market) -> tuple[np.ndarray, float]:
    """Per seed MSE of predicted vs next-day delta [%^2], and that of predicting 0."""
    rows = np.array(sorted(t for t in strategy.record if t + 1 < market.n_days))
    predicted = np.stack([strategy.record[t][:, 0] for t in rows])  # (days, seeds)
    realized = market.deltas[rows + 1, 0] * 100
    return ((predicted * 100 - realized[:, None]) ** 2).mean(axis=0), float((realized**2).mean())


def annual_loss(strategy: RecordingAnnual, market: Market) -> tuple[np.ndarray, float]:
    """Per seed MSE of predicted vs realized next-year delta [%^2 / 100], and that of predicting 0."""
    ends = np.flatnonzero(market.year_end)
    errors, zero = [], []
    for t, (columns, predicted) in sorted(strategy.record.items()):
        later = ends[ends > t]
        if not later.size:
            continue
        realized = market.close[later[0], columns] / market.close[t, columns] - 1.0
        known = ~np.isnan(realized)
        errors.append((predicted[:, known] - realized[known]) * 10)
        zero.append(realized[known] * 10)
    err = np.concatenate(errors, axis=1)
    return (err**2).mean(axis=1), float((np.concatenate(zero) ** 2).mean())


def side_by_side(title: str, runs: dict[str, tuple[float, float, np.ndarray]], zero: float) -> None:
    print(f"   {'':<8} {'wall s':>8} {'cpu s':>8}   loss per seed (mean)")
    for name, (wall, cpu, loss) in runs.items():
        seeds = " ".join(f"{v:.4f}" for v in loss)
        print(f"   {name:<8} {wall:8.1f} {cpu:8.1f}   {seeds}  ({loss.mean():.4f})")
    if len(runs) == 2:
        (w0, c0, l0), (w1, c1, l1) = runs.values()
        print(
            f"   speed-up: {w0 / w1:.2f}x wall, {c0 / c1:.2f}x cpu; mean loss after - before: "
            f"{l1.mean() - l0.mean():+.4f} ({title}; predicting 0: {zero:.4f})"
        )


def end_to_end(root: Path) -> tuple[float, float]:
    """(wall s, CPU s) of ``backtest run --strategy transformer`` run from ``root`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    with tempfile.TemporaryDirectory() as runs:
        command = [sys.executable, "-m", "engine", "run", "--strategy", "transformer", "--runs-dir", runs]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, cwd=runs)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-before", action="store_true", help="run only the new defaults")
    parser.add_argument(
        "--end-to-end", action="store_true", help="also time `backtest run --strategy transformer`"
    )
    parser.add_argument("--before", type=Path, help="with --end-to-end: another checkout timed beside it")
    parser.add_argument("--daily-only", action="store_true", help="skip the annual parts (2 and 3)")
    args = parser.parse_args()
    sample = load_market(DataSpec.parse("sample"))
    index = sample.select(["^GSPC"])
    stocks = sample.select([t for t in sample.tickers if t != "^GSPC"])
    variants = {"after": {}} if args.skip_before else {"before": {}, "after": {}}

    print(f"1. transformer walk-forward, 10 seeds x {index.n_days} days of ^GSPC (no ensemble member)")
    generate_targets(Transformer({"ensemble": False}), index.head(400), SEEDS)  # warm caches
    runs: dict[str, tuple[float, float, np.ndarray]] = {}
    for name in variants:
        strategy = RecordingTransformer({"ensemble": False, **(OLD_DAILY if name == "before" else {})})
        wall, cpu = timed(strategy, index)
        loss, zero = daily_loss(strategy, index)
        runs[name] = (wall, cpu, loss)
    side_by_side("MSE of next-day delta, %^2", runs, zero)
    if args.end_to_end:
        anchor = runs.get("before")
        trees = {"before": args.before.resolve()} if args.before else {}
        for name, root in {**trees, "this": Path(__file__).resolve().parents[1]}.items():
            wall, cpu = end_to_end(root)
            share = (
                f"; {wall / anchor[0]:.3f} of the anchor's wall, {cpu / anchor[1]:.3f} of its CPU"
                if anchor
                else ""
            )
            print(
                f"   backtest run --strategy transformer ({name}): {wall:.1f} s wall, {cpu:.1f} s CPU{share}"
            )
    if args.daily_only:
        return

    years = len(np.unique(stocks.dates.astype("datetime64[Y]")))
    print(f"2. transformer-annual, {len(stocks.tickers)} stocks x {years} years, 10 seeds (+ ensemble)")
    runs = {}
    for name in variants:
        annual = RecordingAnnual(OLD_ANNUAL if name == "before" else {})
        wall, cpu = timed(annual, stocks)
        loss, zero = annual_loss(annual, stocks)
        runs[name] = (wall, cpu, loss)
    side_by_side("MSE of next-year delta, %^2/100", runs, zero)

    print("3. other annual pickers, same stocks, 10 seeds")
    for name in ("momentum-annual", "lstm-annual"):
        wall, cpu = timed(resolve(name)({}), stocks)
        print(f"   {name:<16} {wall:7.2f} s wall {cpu:7.2f} s cpu")


if __name__ == "__main__":
    main()
