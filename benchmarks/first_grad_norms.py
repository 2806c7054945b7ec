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

from engine.drive import generate_targets
from feeds.sources import DataSpec, load_market
from strategies.learning import Trainer
from strategies.lstm import LstmStateful
from strategies.nn.gradients import seed_norms
from strategies.nn.losses import LOSSES


def first_norms(loss: str, grad_mode: str, steps: int, market) -> list[float]:
    """Max-over-seeds gradient norm of the first ``steps`` learning steps."""
    norms: list[float] = []
    original = Trainer.step

    def recording(self: Trainer, grad) -> None:  # type: ignore[no-untyped-def]
        norms.append(float(seed_norms(grad).max()))
        original(self, grad)

    Trainer.step = recording  # type: ignore[method-assign]
    try:
        params = {"loss": loss, "grad_mode": grad_mode, "engine": "torch"}
        try:
            strategy = LstmStateful(params)
        except Exception:  # before the numba engine existed there was no "engine" parameter
            params.pop("engine")
            strategy = LstmStateful(params)
        generate_targets(strategy, market.head(steps + 40), tuple(range(10)))
    finally:
        Trainer.step = original  # type: ignore[method-assign]
    return norms[:steps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--grad-mode", default="none")
    args = parser.parse_args()
    market = load_market(DataSpec.parse("sample"))
    print(
        f"first {args.steps} gradient norms (max over 10 seeds), lstm-stateful, grad_mode={args.grad_mode}, "
        f"sample from {market.dates[0]} ({len(market.tickers)} tickers)"
    )
    for loss in LOSSES:
        norms = first_norms(loss, args.grad_mode, args.steps, market)
        finite = all(np.isfinite(norms))
        print(f"  {loss:16s} " + " ".join(f"{n:9.3g}" for n in norms) + ("" if finite else "  NOT FINITE"))


if __name__ == "__main__":
    main()
