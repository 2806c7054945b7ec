"""The direction target (up/down, binary cross-entropy) for every learned strategy, and plain SGD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.pipeline.drive import generate_targets
from engine.workflows.audit import audit
from strategies.annual import LstmAnnual, TransformerAnnual
from strategies.learning import LearningParams, SignalParams, to_target, weights_for
from strategies.lstm import LstmStateful, LstmStateless
from strategies.nn.losses import bce_derivative, bce_value
from strategies.nn.optim import SGD, make_optimizer
from strategies.nn.signals import probabilities_to_weights
from strategies.transformer import Transformer
from tests.conftest import random_walk_market
from tests.strategies.test_annual import SMALL as ANNUAL_SMALL, universe
from tests.strategies.test_transformer import SMALL as TRANSFORMER_SMALL


def test_bce_derivative_matches_autograd_and_is_stable():
    logit = torch.tensor([-200.0, -3.0, -0.1, 0.0, 0.4, 5.0, 200.0], dtype=torch.float64, requires_grad=True)
    target = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0], dtype=torch.float64)
    bce_value(logit, target).sum().backward()
    assert torch.allclose(logit.grad, bce_derivative(logit.detach(), target), atol=1e-12)
    assert torch.isfinite(bce_value(logit.detach(), target)).all()
    p = torch.sigmoid(logit.detach()[2])
    assert float(bce_value(logit.detach()[2:3], target[2:3])) == pytest.approx(-float(torch.log(p)))


def test_targets_up_down_with_unknowns_kept_unknown():
    realized = np.array([0.01, -0.02, 0.0, np.nan, 0.03])
    scale = np.array([0.01, 0.01, 0.01, 0.01, np.nan])
    assert np.array_equal(
        to_target("direction", realized, scale), [1.0, 0.0, 0.0, np.nan, np.nan], equal_nan=True
    )
    assert np.allclose(to_target("delta", realized, scale)[:3], [1.0, -2.0, 0.0])


def test_signal_from_the_probability():
    p = np.array([[0.2, 0.5, 0.55, 0.9]])
    assert probabilities_to_weights(p, "long_flat")[0].tolist() == [0.0, 0.0, 0.25, 0.25]
    assert probabilities_to_weights(p, "long_short")[0].tolist() == [-0.25, -0.25, 0.25, 0.25]
    assert np.allclose(probabilities_to_weights(p, "confidence")[0], [0.0, 0.0, 0.025, 0.2])

    class Params(LearningParams, SignalParams):
        pass

    scale = np.array([0.02, 0.02])
    logits = np.array([[2.0, -1.0], [-4.0, -1.0]])  # two seeds
    weights = weights_for(logits * scale, scale, Params(target="direction", signal="confidence"))
    mean_p = (1 / (1 + np.exp(-logits))).mean(axis=0)  # the ensemble averages probabilities
    assert np.allclose(weights[-1], np.clip(2 * (mean_p - 0.5), 0, 1) / 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LstmStateful({"hidden": 8, "warmup_years": 0.5, "target": "direction"}),
        lambda: LstmStateless({"hidden": 8, "warmup_years": 0.5, "window": 5, "target": "direction"}),
        lambda: Transformer({**TRANSFORMER_SMALL, "target": "direction"}),
    ],
)
def test_direction_target_trains_every_daily_learner_causally(make):
    market = random_walk_market(n=700, tickers=("IDX",), seed=4)
    delta = generate_targets(make(), market, (0, 1)).targets
    direction = generate_targets(make(), market, (0, 1)).targets
    assert np.array_equal(delta, direction, equal_nan=True)  # deterministic
    decided = direction[~np.isnan(direction)]
    assert decided.size and set(np.unique(decided)) <= {0.0, 1.0}  # long_flat
    report = audit(make, market, (0,), cuts=2)
    assert report.passed, report.problems


@pytest.mark.parametrize("cls", [LstmAnnual, TransformerAnnual])
def test_direction_target_for_the_annual_pickers(cls):
    market = universe()
    models = []
    for target in ("delta", "direction"):
        strategy = cls({**ANNUAL_SMALL, "target": target})
        weights = generate_targets(strategy, market, (0,)).targets
        held = np.nansum(weights, axis=-1)
        assert np.isclose(held[held > 0], 1.0).all()  # top-k equal weight, as with the delta target
        models.append(strategy.model.params.detach().clone())
    assert not torch.equal(models[0], models[1])  # trained on another target with another loss


def test_sgd_step_momentum_and_state():
    params = torch.zeros(2, 3)
    sgd = make_optimizer("sgd", params, lr=0.1, momentum=0.5)
    assert isinstance(sgd, SGD)
    g = torch.ones(2, 3)
    sgd.step(g.clone())
    assert torch.allclose(params, torch.full((2, 3), -0.1))
    sgd.step(g.clone())  # v = 0.5 * 1 + 1
    assert torch.allclose(params, torch.full((2, 3), -0.25))
    again = SGD(torch.zeros(2, 3), lr=0.1, momentum=0.5)
    again.load_state_dict(sgd.state_dict())
    assert torch.equal(again.velocity, sgd.velocity) and again.started
    plain = torch.zeros(1, 2)
    make_optimizer("sgd", plain, lr=0.5).step(torch.tensor([[2.0, -4.0]]))
    assert plain.tolist() == [[-1.0, 2.0]]
    reference = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([reference], lr=0.1, momentum=0.9)
    ours = torch.zeros(1, 3)
    mine = make_optimizer("sgd", ours, lr=0.1, momentum=0.9)
    for k in range(4):
        grad = torch.tensor([1.0, -2.0, 0.5]) * (k + 1)
        reference.grad = grad.clone()
        opt.step()
        mine.step(grad[None].clone())
    assert torch.allclose(ours[0], reference.detach())


def test_grad_norm_matters_under_sgd_and_barely_under_adam():
    market = random_walk_market(n=400, tickers=("IDX",), seed=2)

    def final_weights(optimizer: str, c: float) -> torch.Tensor:
        strategy = LstmStateful(
            {"hidden": 4, "warmup_years": 0.5, "optimizer": optimizer, "grad_norm": c, "lr": 0.01}
        )
        generate_targets(strategy, market, (0,))
        return strategy.model.params.clone()

    sgd_change = (final_weights("sgd", 1.618) - final_weights("sgd", 1.0)).abs().max()
    adam_change = (final_weights("adam", 1.618) - final_weights("adam", 1.0)).abs().max()
    assert sgd_change > 100 * adam_change
