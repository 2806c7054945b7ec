"""Stock-RNN check: the first gradient norms of ``lstm-stateful`` for every loss.

Runs the strategy over the first days of the bundled sample (all its tickers,
10 seeds, ``grad_mode`` as given, default ``none``) and prints, per loss, the
L2 norm of each learning step's raw gradient (before the gradient mode), for the
first ``--steps`` steps, as the largest norm over the seeds. A finite norm of
order 1 means the running normalization was defined when the targets were
scaled (issue 16, item 1).

Usage: ``python benchmarks/first_grad_norms.py [--steps 10] [--grad-mode none]``
"""

from __future__ import annotations

import argparse

import numpy as np

from engine.pipeline.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.lstm import LstmStateful
from strategies.nn.losses import LOSSES


def first_norms(loss: str, grad_mode: str, steps: int, market, backend: str) -> list[float]:
    """Max-over-seeds raw gradient norm of the first ``steps`` learning steps."""
    strategy = LstmStateful({"loss": loss, "grad_mode": grad_mode, "backend": backend})
    norms: list[float] = []
    learn = strategy.learn

    def recording(history) -> None:
        before = strategy.learn_steps
        learn(history)
        if strategy.learn_steps > before:
            norms.append(float(np.max(strategy.grad_norms)))

    strategy.learn = recording  # type: ignore[method-assign]
    generate_targets(strategy, market.head(steps + 40), tuple(range(10)))
    return norms[:steps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--grad-mode", default="none")
    parser.add_argument("--backend", default="torch", help="torch (the reference) or numba")
    args = parser.parse_args()
    market = load_market(DataSpec.parse("sample"))
    print(
        f"first {args.steps} gradient norms (max over 10 seeds), lstm-stateful, grad_mode={args.grad_mode}, "
        f"backend={args.backend}, "
        f"sample from {market.dates[0]} ({len(market.tickers)} tickers)"
    )
    for loss in LOSSES:
        norms = first_norms(loss, args.grad_mode, args.steps, market, args.backend)
        finite = all(np.isfinite(norms))
        print(f"  {loss:16s} " + " ".join(f"{n:9.3g}" for n in norms) + ("" if finite else "  NOT FINITE"))


if __name__ == "__main__":
    main()
