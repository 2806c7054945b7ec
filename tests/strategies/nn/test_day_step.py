"""The online LSTM's day-step seam: both backends behind one protocol, one checkpoint format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.pipeline.drive import generate_targets
from engine.store.checkpoint_state import first_difference
from strategies.annual import LstmAnnual, TransformerAnnual
from strategies.learning import LearningParams
from strategies.lstm import LstmStateful, LstmStateless
from strategies.nn.day_step import LstmDayStep, make_day_step
from strategies.nn.lstm_init import LstmShape
from strategies.nn.numba_day_step import NumbaDayStep
from strategies.nn.torch_day_step import TorchDayStep
from strategies.seeded import SeededOnlineStrategy, SeededWalkForwardStrategy
from strategies.transformer import Transformer
from tests.conftest import random_walk_market

SEEDS = (0, 1, 2)
TICKERS = 2


def new_step(backend: str, carry: bool, ring: int = 3, optimizer: str = "adam") -> LstmDayStep:
    training = LearningParams(optimizer=optimizer, loss="linex")
    return make_day_step(backend, LstmShape(SEEDS, 2, 8, 2), training, ring, TICKERS, carry)  # type: ignore[arg-type]


def drive(
    step: LstmDayStep, days: np.ndarray, targets: np.ndarray, steps: int = 1, first: int = 0
) -> np.ndarray:
    """Days ``first``..: learn on the previous day's target (tickers known: not B on every third
    day), then step on the day's last ``steps`` rows; the predictions (days, seeds, tickers)."""
    out = []
    for d in range(first, len(days)):
        if d and step.kept:
            step.learn(targets[d - 1], np.array([True, d % 3 != 0]))
        out.append(np.array(step.step(days[d][-steps:]), dtype=np.float64))
    return np.array(out)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.standard_normal((12, 4, TICKERS, 2)).astype(np.float32), rng.standard_normal((12, TICKERS))


@pytest.mark.parametrize("carry,steps", [(True, 1), (False, 4)])
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_backends_agree_and_checkpoints_cross_between_them(data, carry, steps, optimizer):
    days, targets = data
    numba_step = new_step("numba", carry, optimizer=optimizer)
    torch_step = new_step("torch", carry, optimizer=optimizer)
    assert isinstance(numba_step, NumbaDayStep) and isinstance(torch_step, TorchDayStep)
    for step in (numba_step, torch_step):
        assert isinstance(step, LstmDayStep)  # the protocol (its methods, checked at run time)
    a = drive(numba_step, days[:6], targets, steps)
    b = drive(torch_step, days[:6], targets, steps)
    assert a.shape == (6, len(SEEDS), TICKERS)
    tol = 1e-5 * np.abs(b).max()
    np.testing.assert_allclose(a, b, rtol=0, atol=tol)
    # a checkpoint of either backend continues in the other: same keys, same kept steps
    state = numba_step.state_dict()
    assert set(state) == set(torch_step.state_dict()) == {"params", "optimizer", "pending", "extra"}
    # the same kinds, shapes and dtypes everywhere (numpy arrays on both), so update's check accepts either
    assert first_difference(state, torch_step.state_dict()) is None
    assert len(state["pending"]) == numba_step.kept == torch_step.kept
    assert set(state["extra"]) == ({"h", "c"} if carry else set())
    into_torch = new_step("torch", carry, optimizer=optimizer)
    into_torch.load_state_dict(state)
    into_numba = new_step("numba", carry, optimizer=optimizer)
    into_numba.load_state_dict(torch_step.state_dict())
    rest = drive(numba_step, days, targets, steps, first=6)
    np.testing.assert_allclose(drive(into_torch, days, targets, steps, first=6), rest, rtol=0, atol=tol)
    np.testing.assert_allclose(drive(into_numba, days, targets, steps, first=6), rest, rtol=0, atol=tol)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_a_checkpoint_resumes_bit_for_bit(data, backend):
    days, targets = data
    one_go = drive(new_step(backend, True), days, targets)
    first = new_step(backend, True)
    drive(first, days[:6], targets)
    second = new_step(backend, True)
    second.load_state_dict(first.state_dict())
    assert np.array_equal(drive(second, days, targets, first=6), one_go[6:])


def test_the_strategy_holds_one_day_step_chosen_once():
    market = random_walk_market(n=40, tickers=("A",), seed=2)
    for backend, kind in (("numba", NumbaDayStep), ("torch", TorchDayStep)):
        strategy = LstmStateful({"hidden": 8, "backend": backend})
        generate_targets(strategy, market, (0,))
        assert isinstance(strategy.day_step, kind) and strategy.model is strategy.day_step.model
        assert not hasattr(strategy, "kernel")


def test_builtins_use_the_seeded_bases_and_leave_cpu_determinism_alone():
    assert issubclass(LstmStateful, SeededOnlineStrategy) and issubclass(LstmStateless, SeededOnlineStrategy)
    for cls in (Transformer, LstmAnnual, TransformerAnnual):
        assert issubclass(cls, SeededWalkForwardStrategy)
    before = torch.are_deterministic_algorithms_enabled()
    seen = []
    strategy = LstmStateful({"hidden": 8, "backend": "torch"})
    setup = strategy.setup

    def recording(history):
        seen.append(torch.are_deterministic_algorithms_enabled())
        setup(history)

    strategy.setup = recording  # type: ignore[method-assign]
    generate_targets(strategy, random_walk_market(n=30, tickers=("A",), seed=2), (0, 1))
    assert seen == [before] and torch.are_deterministic_algorithms_enabled() == before
