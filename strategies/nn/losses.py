"""Loss functions from the user's research, with their derivatives.

Each loss is a function of the error ``e = y_pred - y_true`` (elementwise; the
training loss is the mean over the batch). Formulas:

=================  ==============================================================
``mse``            e^2
``smooth_l1``      |e| if |e| > 1 else e^2        (the user's form, not torch's)
``exp_or_log``     log(1 + e) if e > 0 else exp(-e) - 1   (under-prediction costs
                   exponentially)
``smooth_l1_or_l2`` |e| if e > 1 else e^2          (asymmetric: only over-prediction
                   beyond 1 is linear)
``linex``          exp(-e) + e - 1
``huber``          torch's Huber (delta 1): e^2 / 2 if |e| <= 1 else |e| - 1/2
=================  ==============================================================

Numerical safety: the exponential losses continue *linearly* beyond
``EXP_LIMIT`` (|e| = 20 in target-std units, a 20-sigma day): value and slope
match at the limit, so they never overflow and the gradient stays finite and
points the right way (tests push e to -1e6). Targets are scaled by a running
standard deviation, so ordinary days have |e| of order 1.

``value`` works on torch tensors with autograd (for models trained by autograd,
like the transformer); ``derivative`` gives dloss/de in closed form (for the
hand-written LSTM backward pass). Tests check one against the other.

:func:`strategies.nn.loss_kernels.derivative_f32` is the same derivative for one
float32 error inside numba kernels (the compiled LSTM day step), selected by a
:class:`LossKind`; it lives in its own torch-free module because the compiled path
runs without torch (importing it costs about a second), and a test checks that the
two agree to float32 rounding for every loss: a loss changed here must change there.
It is compiled when first looked up (``losses.derivative_f32`` forwards the lookup),
not when this module is imported: the transformer and the other autograd models use
the torch formulas only, and importing numba would cost them a quarter of a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from strategies.nn.loss_kernels import EXP_LIMIT, LossKind

__all__ = ["EXP_LIMIT", "LOSSES", "Loss", "LossKind", "bce_derivative", "bce_value", "get_loss"]
_EXP_AT_LIMIT = math.exp(EXP_LIMIT)

Fn = Callable[[torch.Tensor], torch.Tensor]


def _exp_neg(e: torch.Tensor) -> torch.Tensor:
    """exp(-e), continued linearly for e < -EXP_LIMIT (value and slope match)."""
    inside = torch.exp(-torch.clamp(e, min=-EXP_LIMIT))
    beyond = _EXP_AT_LIMIT * (1.0 + (-EXP_LIMIT - e))
    return torch.where(e < -EXP_LIMIT, beyond, inside)


def _d_exp_neg(e: torch.Tensor) -> torch.Tensor:
    """d/de of :func:`_exp_neg`: -exp(-e), constant beyond the limit."""
    return -torch.exp(-torch.clamp(e, min=-EXP_LIMIT))


def _log1p_pos(e: torch.Tensor) -> torch.Tensor:
    return torch.log1p(torch.clamp(e, min=0.0))


@dataclass(frozen=True)
class Loss:
    """A loss of the error: ``value(e)`` elementwise, ``derivative(e)`` = d value / d e."""

    name: str
    value: Fn
    derivative: Fn
    formula: str

    def mean(self, pred: torch.Tensor, target: torch.Tensor, dim: tuple[int, ...] | int = -1) -> torch.Tensor:
        """Mean loss over ``dim`` (the batch), differentiable."""
        return self.value(pred - target).mean(dim=dim)


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", lambda e: e * e, lambda e: 2.0 * e, "e^2"),
    "smooth_l1": Loss(
        "smooth_l1",
        lambda e: torch.where(e.abs() > 1.0, e.abs(), e * e),
        lambda e: torch.where(e.abs() > 1.0, torch.sign(e), 2.0 * e),
        "|e| if |e| > 1 else e^2",
    ),
    "exp_or_log": Loss(
        "exp_or_log",
        lambda e: torch.where(e > 0, _log1p_pos(e), _exp_neg(e) - 1.0),
        lambda e: torch.where(e > 0, 1.0 / (1.0 + torch.clamp(e, min=0.0)), _d_exp_neg(e)),
        "log(1+e) if e > 0 else exp(-e) - 1",
    ),
    "smooth_l1_or_l2": Loss(
        "smooth_l1_or_l2",
        lambda e: torch.where(e > 1.0, e.abs(), e * e),
        lambda e: torch.where(e > 1.0, torch.ones_like(e), 2.0 * e),
        "|e| if e > 1 else e^2",
    ),
    "linex": Loss(
        "linex",
        lambda e: _exp_neg(e) + e - 1.0,
        lambda e: _d_exp_neg(e) + 1.0,
        "exp(-e) + e - 1",
    ),
    "huber": Loss(
        "huber",
        lambda e: torch.nn.functional.huber_loss(e, torch.zeros_like(e), reduction="none", delta=1.0),
        lambda e: torch.clamp(e, -1.0, 1.0),
        "e^2/2 if |e| <= 1 else |e| - 1/2 (torch Huber, delta 1)",
    ),
}


def __getattr__(name: str) -> Any:
    """``derivative_f32``: :mod:`strategies.nn.loss_kernels`' compiled derivative (numba loads on
    this lookup)."""
    if name != "derivative_f32":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from strategies.nn import loss_kernels

    return loss_kernels.derivative_f32


def bce_value(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of a logit against a 0/1 target, elementwise (the ``direction`` target).

    torch's ``binary_cross_entropy_with_logits`` (log-sum-exp form: no overflow for large logits).
    """
    logit, target = torch.broadcast_tensors(logit, target)  # as ``pred - target`` broadcasts for the others
    return torch.nn.functional.binary_cross_entropy_with_logits(logit, target, reduction="none")


def bce_derivative(logit: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d bce / d logit = sigmoid(logit) - target (for the hand-written LSTM backward pass)."""
    return torch.sigmoid(logit) - target


def get_loss(name: str) -> Loss:
    """The loss called ``name`` (one of :data:`LOSSES`)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}") from None
