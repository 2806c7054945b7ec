"""Stock-RNN benchmark: batched ten-seed online LSTM vs a plain loop over ten nn.LSTM models.

Side by side in one process, on the bundled S&P 500 sample (8,313 days), one input
(the day's delta), hidden 64, one online step per day (predict at the close, one
Adam step once the next delta is known, gradient rescaled to norm 1):

- batched: the ``lstm-stateful`` strategy driven by the engine (10 seeds in one
  BatchedLSTM, hand-written backward, fused Adam, one torch thread);
- loop: ten separate ``torch.nn.LSTM`` + ``nn.Linear`` models with the same
  initial weights, trained with autograd and ``torch.optim.Adam``, the way a user
  would write it (torch's default threads).

Then memory: peak RSS of the batched run, and RSS after each of 20 consecutive
trainings in one process (``--memory-days`` days each).

Usage: ``python benchmarks/lstm_bench.py [--loop-days N] [--memory-days N]``;
``--loop-days`` below the full length times the loop on a prefix and scales it
up linearly (printed as such).
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

import numpy as np
import torch

from engine.drive import generate_targets
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


def batched(market) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    generate_targets(LstmStateful(PARAMS), market, SEEDS)
    return time.perf_counter() - start, np.empty(0)


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
        norm = RunningNorm(1)
        state = None
        pending = None
        for t in range(days):
            if pending is not None and not np.isnan(deltas[t]):
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
            pending = (y, float(norm.std[0]))
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
    generate_targets(LstmStateful(PARAMS), market.head(300), SEEDS)  # warm caches
    rss_before = rss_mb()
    t_batched, _ = batched(market)
    peak = peak_mb()
    print(
        f"batched lstm-stateful (10 seeds, 1 thread): {t_batched:7.2f} s  "
        f"({t_batched / n * 1e3:.2f} ms/day for all seeds)"
    )
    print(f"  RSS before {rss_before:.0f} MB, peak so far {peak:.0f} MB (process incl. torch and data)")
    days = args.loop_days or n
    threads = torch.get_num_threads()
    t_loop, _ = loop(market, days)
    scaled = t_loop * n / days
    note = "" if days == n else f" (measured on {days} days, scaled x{n / days:.2f})"
    print(f"loop of 10 nn.LSTM (autograd, torch.optim.Adam, {threads} threads): {scaled:7.2f} s{note}")
    print(
        f"speed-up batched vs loop: {scaled / t_batched:.1f}x (wanted >= 10x); "
        f"batched wall {t_batched:.1f} s (wanted < 15 s)"
    )

    print(
        f"memory: {args.memory_runs} consecutive trainings of 10 seeds x {args.memory_days} days, one process"
    )
    short = market.head(args.memory_days)
    readings = []
    for i in range(args.memory_runs):
        generate_targets(LstmStateful(PARAMS), short, SEEDS)
        gc.collect()
        readings.append(rss_mb())
        if i + 1 in (1, 2, 5, 10, 15, 20) or i + 1 == args.memory_runs:
            print(f"  after run {i + 1:2d}: RSS {readings[-1]:.0f} MB")
    print(
        f"  growth from run 2 to run {args.memory_runs}: {readings[-1] - readings[1]:+.1f} MB; "
        f"peak RSS {peak_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
