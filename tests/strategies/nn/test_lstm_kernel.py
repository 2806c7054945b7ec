"""The numba day step against the torch reference: same predictions to float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

from engine.pipeline.drive import generate_targets
from strategies.lstm import LstmStateful, LstmStateless, StatefulParams
from strategies.nn.numba_day_step import NumbaDayStep
from strategies.nn.torch_day_step import TorchDayStep
from tests.conftest import random_walk_market

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=300, tickers=("A", "B"), seed=5)


def predictions(strategy, market, seeds=SEEDS) -> np.ndarray:
    """Every day's predictions (days, seeds, tickers) in units of the running std."""
    out = []
    forward = strategy._forward

    def recording(history):
        y = forward(history)
        out.append(np.array(y, dtype=np.float64))
        return y

    strategy._forward = recording
    generate_targets(strategy, market, seeds)
    return np.array(out)


CASES = [
    (LstmStateful, {"bptt": 1}),
    (LstmStateful, {"bptt": 3, "layers": 2, "optimizer": "rmsprop", "loss": "linex", "grad_mode": "none"}),
    (LstmStateful, {"lags": 3, "activation": "phi_tanh", "loss": "exp_or_log", "grad_mode": "clip"}),
    (LstmStateless, {"window": 5, "loss": "huber"}),
    (LstmStateless, {"window": 4, "layers": 2, "loss": "smooth_l1", "optimizer": "rmsprop"}),
    (LstmStateless, {"window": 3, "loss": "smooth_l1_or_l2", "grad_mode": "clip", "grad_norm": 0.5}),
]


@pytest.mark.parametrize("cls,extra", CASES)
def test_numba_equals_torch_to_float32_rounding_and_repeats_bit_for_bit(market, cls, extra):
    params = {"hidden": 8, "warmup_years": 0.5, **extra}
    torch_y = predictions(cls({**params, "backend": "torch"}), market)
    numba_y = predictions(cls({**params, "backend": "numba"}), market)
    assert numba_y.shape == torch_y.shape
    scale = np.abs(torch_y).max()
    assert np.abs(numba_y - torch_y).max() <= 1e-5 * scale
    again = predictions(cls({**params, "backend": "numba"}), market)
    assert np.array_equal(numba_y, again)
    alone = predictions(cls({**params, "backend": "numba"}), market, (2,))
    assert np.array_equal(numba_y[:, 2], alone[:, 0])


def test_auto_uses_numba_and_falls_back_to_torch_for_options_it_does_not_know(market):
    class Extended(StatefulParams):
        novelty: float = Field(0.0, description="an option added later, unknown to the kernel")

    class ExtendedLstm(LstmStateful):
        name = "lstm-extended"
        Params = Extended

    head = market.head(30)
    plain = ExtendedLstm({"hidden": 8})
    generate_targets(plain, head, (0,))
    assert isinstance(plain.day_step, NumbaDayStep)  # the unknown option at its default: compiled path
    changed = ExtendedLstm({"hidden": 8, "novelty": 1.0})
    generate_targets(changed, head, (0,))
    assert isinstance(changed.day_step, TorchDayStep)  # the reference path
    with pytest.raises(Exception, match="backend=numba does not implement parameter novelty"):
        generate_targets(ExtendedLstm({"hidden": 8, "novelty": 1.0, "backend": "numba"}), head, (0,))


def test_warm_up_compiles_the_one_specialization_a_run_calls(market):
    from strategies.nn import lstm_kernel

    assert LstmStateful({"backend": "torch"}).warm_up() is None
    what, task = LstmStateful({"hidden": 8}).warm_up()
    assert "numba" in what
    task()
    generate_targets(LstmStateful({"hidden": 8, "layers": 2}), market.head(40), SEEDS)
    generate_targets(LstmStateless({"hidden": 8, "window": 3}), market.head(40), SEEDS)
    # the run's calls found the warm-up's compiled code: no second specialization
    assert len(lstm_kernel.forward_steps.signatures) == 1
    assert len(lstm_kernel.learn_step.signatures) == 1


def test_sources_compiled_into_the_kernels_are_pinned_by_digest() -> None:
    """numba's disk cache is keyed on lstm_kernel.py alone: an edit of a file compiled into its
    kernels must change lstm_kernel.py too (its digest there), or a stale kernel is loaded."""
    import hashlib
    from pathlib import Path

    from strategies.nn import lstm_kernel

    root = Path(lstm_kernel.__file__).resolve().parents[2]
    for path, digest in lstm_kernel.COMPILED_IN.items():
        actual = hashlib.sha256((root / path).read_bytes()).hexdigest()[:16]
        assert actual == digest, f"{path} changed: set its digest in lstm_kernel.COMPILED_IN to {actual!r}"
