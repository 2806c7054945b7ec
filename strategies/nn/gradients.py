"""Gradient handling per seed: rescale to norm c, clip to norm c, or leave alone.

Gradients live in a flat tensor of shape (n_seeds, n_params); each seed's norm is
computed over its own row, so seeds never influence each other.

- ``scale``: every step, g <- g * c / ||g|| (the user's alternative to clipping;
  c = 1.0 by default, e.g. the golden ratio 1.618). Under SGD the step is lr * c;
  Adam and RMSprop divide by a running RMS of the gradient, so a constant c cancels
  there except through epsilon (what ``scale`` still does under them: every step
  gets the same weight, whatever the raw gradient's size).
- ``clip``: g <- g * min(1, c / ||g||) (standard clip-norm).
- ``none``: unchanged.
"""

from __future__ import annotations

from typing import Literal

import torch

GRADIENT_MODES = ("scale", "clip", "none")
GradientMode = Literal["scale", "clip", "none"]
_TINY = 1e-12


def seed_norms(grad: torch.Tensor) -> torch.Tensor:
    """L2 norm of each seed's gradient row, shape (n_seeds, 1)."""
    return (grad * grad).sum(dim=1, keepdim=True).sqrt_()


def apply_gradient_mode(grad: torch.Tensor, mode: GradientMode, c: float) -> None:
    """Rescale or clip ``grad`` (n_seeds, n_params) in place, per seed."""
    if mode == "none":
        return
    norms = seed_norms(grad).clamp_min_(_TINY)
    factor = c / norms
    if mode == "clip":
        factor.clamp_max_(1.0)
    elif mode != "scale":
        raise ValueError(f"unknown gradient mode {mode!r}; choose from {', '.join(GRADIENT_MODES)}")
    grad.mul_(factor)
