"""Transformer benchmark: ten seeds batched vs seed by seed, and annual picking wall time.

Side by side in one process, on the bundled sample:

1. Walk-forward ``transformer`` (defaults: 60-day windows, d_model 32, 2 layers,
   yearly retrain on up to 512 windows per seed, prediction every day) on the
   S&P 500 index, 10 seeds:
   - batched: one ``BatchedTransformer`` holding all ten seeds (one torch thread);
   - loop: the same strategy run ten times with one seed each, the same training
     (a seed's weights are bit-identical alone or among others; checked here).
2. Annual picking over the 20 bundled stocks x 33 years, 10 seeds, for
   ``momentum-annual``, ``lstm-annual`` and ``transformer-annual``: wall time.

Usage: ``python benchmarks/transformer_bench.py [--loop-seeds N]``; with N < 10 the
loop runs N seeds and scales linearly to ten (printed as such).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.registry import resolve

SEEDS = tuple(range(10))


def timed(name: str, market, seeds: tuple[int, ...], params: dict | None = None) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    targets = generate_targets(resolve(name)(params or {}), market, seeds).targets
    return time.perf_counter() - start, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-seeds", type=int, default=10, help="seeds run one by one (scaled to 10)")
    args = parser.parse_args()
    sample = load_market(DataSpec.parse("sample"))
    index = sample.select(["^GSPC"])
    stocks = sample.select([t for t in sample.tickers if t != "^GSPC"])

    print(f"1. transformer walk-forward, 10 seeds x {index.n_days} days of ^GSPC (no ensemble member)")
    params = {"ensemble": False}
    timed("transformer", index.head(400), SEEDS, params)  # warm caches
    t_batched, batched = timed("transformer", index, SEEDS, params)
    print(f"   batched (10 seeds in one model, 1 thread): {t_batched:7.1f} s")
    n = max(1, min(args.loop_seeds, len(SEEDS)))
    t_loop = 0.0
    same = True
    for seed in SEEDS[:n]:
        took, alone = timed("transformer", index, (seed,), params)
        t_loop += took
        same &= np.array_equal(alone[:, 0], batched[:, seed], equal_nan=True)
    scaled = t_loop * len(SEEDS) / n
    note = "" if n == len(SEEDS) else f" (measured {n} seeds, scaled x{len(SEEDS) / n:.1f})"
    print(f"   seed by seed in a loop:                    {scaled:7.1f} s{note}")
    print(f"   ratio loop / batched: {scaled / t_batched:.2f}x; same weights per seed: {same}")

    years = len(np.unique(stocks.dates.astype("datetime64[Y]")))
    print(f"2. annual picking, {len(stocks.tickers)} stocks x {years} years, 10 seeds (+ ensemble)")
    for name in ("momentum-annual", "lstm-annual", "transformer-annual"):
        took, _ = timed(name, stocks, SEEDS)
        print(f"   {name:<19} {took:7.1f} s")


if __name__ == "__main__":
    main()
