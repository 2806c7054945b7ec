"""Shared learning machinery: the causal PCA's state round trip and the autograd step."""

from __future__ import annotations

import numpy as np
import torch

from strategies.learning import CausalPCA, LearningParams, OnlineReduction, Trainer


def test_causal_pca_state_round_trip_gives_the_same_transform():
    rows = np.random.default_rng(0).normal(size=(50, 6))
    pca = CausalPCA(6, 3)
    pca.fit(rows)
    state = pca.state_dict()
    assert set(state) == {"mean", "components"} and state["components"].dtype == np.float64
    again = CausalPCA(6, 3)
    again.load_state_dict(state)
    np.testing.assert_array_equal(again.transform(rows), pca.transform(rows))
    state["mean"][0] = 99.0  # the restored reduction holds copies
    assert again.mean[0] != 99.0 and pca.mean[0] != 99.0


def test_online_reduction_state_keeps_its_checkpoint_keys():
    reduction = OnlineReduction(4, 2, np.datetime64("2020-01-01"))
    assert set(reduction.state_dict()) == {"fitted", "scale", "mean", "components"}


def test_autograd_step_trains_each_seed_row_as_if_alone():
    x = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    target = torch.randn(8, generator=torch.Generator().manual_seed(2))

    def trained(rows: torch.Tensor) -> torch.Tensor:
        params = rows.clone().requires_grad_(True)
        trainer = Trainer(LearningParams(optimizer="sgd", lr=0.1, grad_mode="none"), params)
        for _ in range(3):
            trainer.autograd_step(params @ x.T, target)  # (rows, 8) predictions
        return params.detach()

    both = trained(torch.tensor([[0.1, -0.2, 0.3], [0.5, 0.0, -0.4]]))
    alone = trained(torch.tensor([[0.1, -0.2, 0.3]]))
    torch.testing.assert_close(both[:1], alone, rtol=0, atol=0)
    # plain SGD on the mean squared error: w - lr * 2/n * sum (w.x - y) x, by hand for one step
    w = torch.tensor([0.1, -0.2, 0.3])
    params = w[None].clone().requires_grad_(True)
    sgd = LearningParams(optimizer="sgd", lr=0.1, grad_mode="none")
    Trainer(sgd, params).autograd_step(params @ x.T, target)
    torch.testing.assert_close(params.detach()[0], w - 0.1 * 2 / 8 * ((x @ w - target) @ x))
