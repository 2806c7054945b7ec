"""Stock-RNN benchmark: the ten-seed online LSTM, naive loop vs batched torch vs compiled numba.

Side by side in one process, on the bundled S&P 500 sample (^GSPC, 8,313 days),
one input (the day's delta), hidden 64, one online step per day (predict at the
close, one Adam step once the next delta is known, gradient rescaled to norm 1):

- numba: ``lstm-stateful`` with ``backend=numba`` driven by the engine (the day's
  forward pass and learning step compiled, all seeds per call);
- torch: the same strategy with ``backend=torch`` (10 seeds in one BatchedLSTM,
  hand-written backward, fused Adam, one torch thread), the reference;
- loop: ten separate ``torch.nn.LSTM`` + ``nn.Linear`` models with the same
  initial weights, trained with autograd and ``torch.optim.Adam``, the way a user
  would write it (torch's default threads).

Times are wall and CPU (user+system of this process, less disturbed by other
load). Predictions of numba vs torch are compared (max abs difference, and how
many long/flat decisions differ). Compilation: a fresh process with an empty
numba cache (cold) and again with the cache filled (warm). Then memory: peak RSS,
and RSS after each of 20 consecutive trainings in one process.

Usage: ``python benchmarks/lstm_bench.py [--loop-days N] [--memory-runs N]``;
``--loop-days`` below the full length times the loop on a prefix and scales it
up linearly (printed as such). Pin to one core with ``taskset -c 0``.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from engine.pipeline.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.lstm import LstmStateful
from strategies.nn.batched_lstm import BatchedLSTM
from strategies.nn.normalize import RunningNorm

SEEDS = tuple(range(10))
PARAMS = {"hidden": 64, "lags": 1, "warmup_years": 5.0, "ensemble": False}


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def batched(market, backend: str) -> tuple[float, float, np.ndarray]:
    """(wall s, CPU s, predictions (days, seeds)) of lstm-stateful on ``backend``."""
    strategy = LstmStateful({**PARAMS, "backend": backend})
    out: list[np.ndarray] = []
    forward = strategy._forward

    def recording(history):
        y = forward(history)
        out.append(np.array(y[:, 0], dtype=np.float64))
        return y

    strategy._forward = recording  # type: ignore[method-assign]
    start, cpu = time.perf_counter(), cpu_s()
    generate_targets(strategy, market, SEEDS)
    return time.perf_counter() - start, cpu_s() - cpu, np.array(out)


COMPILE_SNIPPET = """
import time
t = time.perf_counter()
from engine.pipeline.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.lstm import LstmStateful
m = load_market(DataSpec.parse("sample")).select(["^GSPC"]).head(40)
generate_targets(LstmStateful({"hidden": 64, "backend": "numba"}), m, (0, 1))
print(time.perf_counter() - t)
"""


def compile_times() -> tuple[float, float]:
    """Seconds for a fresh process to import, load and run 40 days: empty numba cache, then filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(Path(__file__).parents[1])}
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", COMPILE_SNIPPET],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()[-1]
            )
            for _ in range(2)
        ]
    return runs[0], runs[1]


def loop(market, days: int) -> tuple[float, np.ndarray]:
    """Ten nn.LSTM models, one after the other, same protocol and initial weights."""
    deltas = market.deltas[:days, 0]
    template = BatchedLSTM(SEEDS, 1, PARAMS["hidden"])
    predictions = np.zeros((len(SEEDS), days))
    start = time.perf_counter()
    for row in range(len(SEEDS)):
        lstm, head = template.torch_modules(row)
        params = [*lstm.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, lr=1e-3)
        norm = RunningNorm(1, min_count=20)  # the strategy's norm_days default
        state = None
        pending = None
        for t in range(days):
            if pending is not None and not np.isnan(deltas[t] / pending[1]):
                y, scale = pending
                target = torch.tensor([[deltas[t] / scale]], dtype=torch.float32)
                loss = ((y - target) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                total = torch.sqrt(sum((p.grad**2).sum() for p in params))
                for p in params:
                    p.grad.mul_(1.0 / total.clamp_min(1e-12))
                opt.step()
            norm.update(deltas[t : t + 1])
            x = torch.tensor(norm.transform(deltas[t : t + 1]), dtype=torch.float32).view(1, 1, 1)
            out, state = lstm(x, state)
            y = head(out[:, -1])
            predictions[row, t] = y.item()
            state = (state[0].detach(), state[1].detach())
            pending = (y, float(norm.std[0]) if norm.ready[0] else np.nan)  # no target before
    return time.perf_counter() - start, predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop-days", type=int, default=0, help="days for the loop (0 = all)")
    parser.add_argument("--memory-days", type=int, default=2000)
    parser.add_argument("--memory-runs", type=int, default=20)
    args = parser.parse_args()
    market = load_market(DataSpec.parse("sample")).select(["^GSPC"])
    n = market.n_days
    print(f"workload: 10 seeds x {n} days, 1 input, hidden 64, one online Adam step per day")
    for backend in ("numba", "torch"):  # warm caches (numba: load or compile the kernels)
        generate_targets(LstmStateful({**PARAMS, "backend": backend}), market.head(300), SEEDS)
    rss_before = rss_mb()
    t_numba, c_numba, y_numba = batched(market, "numba")
    t_torch, c_torch, y_torch = batched(market, "torch")
    again = batched(market, "numba")[2]
    peak = peak_mb()
    print(
        f"numba lstm-stateful (10 seeds):          {t_numba:7.2f} s wall, {c_numba:6.2f} s CPU "
        f"({t_numba / n * 1e6:.0f} us/day for all seeds)"
    )
    print(f"torch lstm-stateful (10 seeds, 1 thread): {t_torch:7.2f} s wall, {c_torch:6.2f} s CPU")
    diff = np.abs(y_numba - y_torch)
    flips = int(((y_numba > 0) != (y_torch > 0)).sum())
    print(
        f"  predictions numba vs torch: max abs diff {diff.max():.3g} (max |prediction| "
        f"{np.abs(y_torch).max():.3g}, relative {diff.max() / np.abs(y_torch).max():.2g}); "
        f"long/flat decisions differing: {flips} of {y_torch.size}"
    )
    print(f"  numba run twice: bit-identical predictions: {np.array_equal(y_numba, again)}")
    print(f"  RSS before {rss_before:.0f} MB, peak so far {peak:.0f} MB (process incl. torch and data)")
    days = args.loop_days or n
    threads = torch.get_num_threads()
    start_cpu = cpu_s()
    t_loop, _ = loop(market, days)
    c_loop = (cpu_s() - start_cpu) * n / days
    scaled = t_loop * n / days
    note = "" if days == n else f" (measured on {days} days, scaled x{n / days:.2f})"
    print(
        f"loop of 10 nn.LSTM (autograd, torch.optim.Adam, {threads} threads): {scaled:7.2f} s wall, "
        f"{c_loop:6.2f} s CPU{note}"
    )
    print(
        f"speed-up numba vs loop: {scaled / t_numba:.1f}x wall, {c_loop / c_numba:.1f}x CPU (wanted >= 70x); "
        f"numba vs torch: {t_torch / t_numba:.1f}x wall, {c_torch / c_numba:.1f}x CPU; "
        f"torch vs loop: {scaled / t_torch:.1f}x wall"
    )
    print(f"numba model time {t_numba:.2f} s wall / {c_numba:.2f} s CPU (wanted <= 1.5 s on one core)")
    cold, warm = compile_times()
    print(f"fresh process, import + 40 days with numba: cold cache {cold:.1f} s, warm cache {warm:.1f} s")
    if args.memory_runs <= 0:  # --memory-runs 0: the memory part skipped
        return

    print(
        f"memory: {args.memory_runs} consecutive trainings of 10 seeds x {args.memory_days} days, one process"
    )
    short = market.head(args.memory_days)
    readings = []
    for i in range(args.memory_runs):
        generate_targets(LstmStateful({**PARAMS, "backend": "numba"}), short, SEEDS)
        gc.collect()
        readings.append(rss_mb())
        if i + 1 in (1, 2, 5, 10, 15, 20) or i + 1 == args.memory_runs:
            print(f"  after run {i + 1:2d}: RSS {readings[-1]:.0f} MB")
    if len(readings) >= 2:  # one run: nothing to compare
        print(
            f"  growth from run 2 to run {args.memory_runs}: {readings[-1] - readings[1]:+.1f} MB; "
            f"peak RSS {peak_mb():.0f} MB"
        )


if __name__ == "__main__":
    main()
