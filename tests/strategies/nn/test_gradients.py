"""Gradient modes per seed: scale sets each seed's norm, clip only shrinks, none leaves alone."""

from __future__ import annotations

import pytest
import torch

from strategies.nn.gradients import apply_gradient_mode, seed_norms


def test_scale_sets_each_seeds_norm_to_c():
    grad = torch.randn(4, 1000) * torch.tensor([[1e-4], [1.0], [30.0], [2.0]])
    apply_gradient_mode(grad, "scale", 0.618)
    torch.testing.assert_close(seed_norms(grad).squeeze(1), torch.full((4,), 0.618), rtol=1e-5, atol=0)


def test_clip_only_shrinks_and_none_leaves_alone():
    grad = torch.randn(2, 500) * torch.tensor([[1e-3], [50.0]])
    before = seed_norms(grad).squeeze(1).clone()
    untouched = grad.clone()
    apply_gradient_mode(untouched, "none", 1.0)
    clipped = grad.clone()
    apply_gradient_mode(clipped, "clip", 1.0)
    after = seed_norms(clipped).squeeze(1)
    assert torch.equal(untouched, grad)
    assert after[0] == pytest.approx(before[0].item(), rel=1e-6)
    assert after[1] == pytest.approx(1.0, rel=1e-5)
