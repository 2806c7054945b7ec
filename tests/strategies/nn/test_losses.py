"""Each loss against its formula, derivatives against autograd, numerical safety."""

from __future__ import annotations

import math

import pytest
import torch

from strategies.nn.losses import EXP_LIMIT, LOSSES, get_loss

ERRORS = [-3.0, -1.5, -1.0, -0.3, 0.0, 0.2, 0.9, 1.0, 1.7, 4.0]


def formula(name: str, e: float) -> float:
    """The user's formulas, written independently in plain Python."""
    if name == "mse":
        return e * e
    if name == "smooth_l1":
        return abs(e) if abs(e) > 1 else e * e
    if name == "exp_or_log":
        return math.log(1 + e) if e > 0 else math.exp(-e) - 1
    if name == "smooth_l1_or_l2":
        return abs(e) if e > 1 else e * e
    if name == "linex":
        return math.exp(-e) + e - 1
    if name == "huber":
        return e * e / 2 if abs(e) <= 1 else abs(e) - 0.5
    raise AssertionError(name)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_values_match_the_formulas(name):
    loss = get_loss(name)
    e = torch.tensor(ERRORS, dtype=torch.float64)
    got = loss.value(e)
    for i, x in enumerate(ERRORS):
        assert got[i].item() == pytest.approx(formula(name, x), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
def test_derivatives_match_autograd(name):
    loss = get_loss(name)
    e = torch.tensor([x + 1e-3 for x in ERRORS], dtype=torch.float64, requires_grad=True)
    loss.value(e).sum().backward()
    torch.testing.assert_close(loss.derivative(e.detach()), e.grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ["exp_or_log", "linex"])
def test_exponential_losses_never_overflow(name):
    loss = get_loss(name)
    e = torch.tensor([-1e6, -1e3, -EXP_LIMIT - 1, -EXP_LIMIT, 1e6], dtype=torch.float32, requires_grad=True)
    value = loss.value(e)
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isfinite(e.grad).all()
    assert torch.isfinite(loss.derivative(e.detach())).all()
    assert (e.grad[:3] < 0).all()  # still pushes the prediction up
    below, at = loss.value(torch.tensor([-EXP_LIMIT - 1e-6, -EXP_LIMIT], dtype=torch.float64))
    assert below.item() == pytest.approx(at.item(), rel=1e-5)  # continuous at the limit


@pytest.mark.parametrize("name", list(LOSSES))
def test_numba_derivative_agrees_with_the_torch_one(name):
    """derivative_f32 (the numba kernel's) and Loss.derivative (the torch path's): one loss, the same
    derivative to float32 rounding, beyond the exponential limit too."""
    import numpy as np

    from strategies.nn.losses import LossKind, derivative_f32

    assert {k.name.lower() for k in LossKind} == set(LOSSES)
    edges = [-1e6, -EXP_LIMIT, -1.0, 0.0, 1.0, 1e6]
    grid = np.concatenate([np.linspace(-30, 30, 6001), edges]).astype(np.float32)
    want = get_loss(name).derivative(torch.from_numpy(grid)).numpy()
    got = np.array([derivative_f32(e, int(LossKind[name.upper()])) for e in grid], dtype=np.float32)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)


def test_transformer_import_leaves_numba_unloaded():
    """The torch formulas need no numba: ``derivative_f32`` is compiled on first lookup only."""
    import subprocess
    import sys

    code = (
        "import sys, strategies.transformer, strategies.nn.losses as losses; "
        "assert 'numba' not in sys.modules; losses.derivative_f32; assert 'numba' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
