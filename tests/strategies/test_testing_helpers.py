"""strategies.testing and strategies.seeded: what plugin authors get instead of writing it by hand."""

from __future__ import annotations

import numpy as np
import torch

from engine.cli.scaffold import compatible_range, scaffold
from engine.pipeline.drive import generate_targets
from strategies.history import History
from strategies.seeded import SeededOnlineStrategy
from strategies.testing import check_strategy, synthetic_market


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


def test_synthetic_market_is_long_and_has_bars():
    m = synthetic_market()
    assert m.n_days > 3000 and (m.bar("high") >= m.bar("low")).all()
    h = History(m, 10)
    assert h.volume.shape == (10, 2) and np.isfinite(h.open).all()


def test_seeded_base_pins_threads_and_restores_them():
    before = torch.get_num_threads()
    m = synthetic_market(years=0.5)
    strategy = TinyTorch()
    a = generate_targets(strategy, m, (0, 1)).targets
    assert strategy.threads_inside == 1 and torch.get_num_threads() == before
    assert np.array_equal(a, generate_targets(TinyTorch(), m, (0, 1)).targets, equal_nan=True)
    b = generate_targets(TinyTorch(), m, (1,)).targets
    assert np.array_equal(a[:, 1], b[:, 0], equal_nan=True)  # a seed's draws ignore the other seeds


def test_check_strategy_runs_and_audits():
    result = check_strategy("ma-trend", {"window": 20}, market=synthetic_market(years=1.5), cuts=2)
    assert result.audit.passed, result.audit.summary()
    assert result.run["benchmark"]["name"] == "buy-and-hold"


def test_scaffold_requires_a_compatible_version_range(tmp_path):
    folder = scaffold("my-idea", tmp_path)
    text = (folder / "pyproject.toml").read_text()
    assert f'"stock-rnn{compatible_range()}"' in text
    assert compatible_range("1.4.2") == ">=1.4.2,<2" and compatible_range("0.3.1") == ">=0.3.1,<0.4"
    assert "strategies.testing" in next((folder / "tests").glob("*.py")).read_text()
