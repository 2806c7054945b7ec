"""strategies.seeded: the bases for seeded torch strategies (seeds, one thread, determinism)."""

from __future__ import annotations

import numpy as np
import torch

from engine.pipeline.drive import generate_targets
from feeds.synthetic import synthetic_market
from strategies.history import History
from strategies.seeded import SeededOnlineStrategy


class TinyTorch(SeededOnlineStrategy):
    """Long when a seeded random linear score of the last delta is positive."""

    name = "tiny-torch"

    def setup(self, history: History) -> None:
        self.w = {s: torch.randn(len(history.tickers), generator=g) for s, g in self.generators.items()}
        self.threads_inside = torch.get_num_threads()

    def decide(self, history: History) -> np.ndarray:
        x = torch.as_tensor(np.nan_to_num(history.deltas[-1]))
        k = len(history.tickers)
        return np.stack([((self.w[s] * x) > 0).double().numpy() / k for s in self.seeds])


def test_seeded_base_pins_threads_and_restores_them():
    before = torch.get_num_threads()
    m = synthetic_market(years=0.5)
    strategy = TinyTorch()
    a = generate_targets(strategy, m, (0, 1)).targets
    assert strategy.threads_inside == 1 and torch.get_num_threads() == before
    assert np.array_equal(a, generate_targets(TinyTorch(), m, (0, 1)).targets, equal_nan=True)
    b = generate_targets(TinyTorch(), m, (1,)).targets
    assert np.array_equal(a[:, 1], b[:, 0], equal_nan=True)  # a seed's draws ignore the other seeds
