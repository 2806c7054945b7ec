"""Adam, RMSprop and SGD over one flat parameter tensor of shape (n_seeds, n_params).

All are elementwise, so each seed's parameters evolve exactly as if trained
alone. Adam uses torch's fused kernel (one pass over parameters, gradient and
moments); RMSprop and SGD are written out with in-place ops (torch.optim's
versions work on lists of tensors with their own state layout; these keep the
flat per-seed state the checkpoints store).

Why SGD: Adam and RMSprop divide each step by a running root mean square of the
gradient, so multiplying every gradient by a constant c (``grad_norm``) cancels
except through epsilon; under plain SGD the step is ``lr * g``, so ``grad_mode``
and ``grad_norm`` set the step size directly.
"""

from __future__ import annotations

from typing import Any, Literal

import torch

from strategies.nn.optim_settings import ADAM_BETAS, ADAM_EPS, RMSPROP_ALPHA, RMSPROP_EPS

Optimizer = Literal["adam", "rmsprop", "sgd"]


class FlatOptimizer:
    """Base: holds the parameter tensor and its per-element state."""

    def __init__(self, params: torch.Tensor, lr: float) -> None:
        self.params = params
        self.lr = lr

    def step(self, grad: torch.Tensor) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError


class Adam(FlatOptimizer):
    def __init__(
        self, params: torch.Tensor, lr: float, betas: tuple[float, float] = ADAM_BETAS, eps: float = ADAM_EPS
    ) -> None:
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.steps = torch.zeros((), dtype=torch.float32, device=params.device)  # fused Adam: same device

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        self.steps.add_(1.0)
        torch._fused_adam_(
            [self.params],
            [grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.steps],
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            "exp_avg": self.exp_avg.clone(),
            "exp_avg_sq": self.exp_avg_sq.clone(),
            "steps": self.steps.clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.exp_avg.copy_(state["exp_avg"])
        self.exp_avg_sq.copy_(state["exp_avg_sq"])
        self.steps.copy_(state["steps"])


class RMSprop(FlatOptimizer):
    def __init__(
        self, params: torch.Tensor, lr: float, alpha: float = RMSPROP_ALPHA, eps: float = RMSPROP_EPS
    ) -> None:
        super().__init__(params, lr)
        self.alpha, self.eps = alpha, eps
        self.square_avg = torch.zeros_like(params)

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        self.square_avg.mul_(self.alpha).addcmul_(grad, grad, value=1.0 - self.alpha)
        self.params.addcdiv_(grad, self.square_avg.sqrt().add_(self.eps), value=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"square_avg": self.square_avg.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.square_avg.copy_(state["square_avg"])


class SGD(FlatOptimizer):
    """Plain SGD, optionally with (heavy-ball) momentum as in ``torch.optim.SGD``.

    ``v <- momentum * v + g`` (v = g on the first step), ``params <- params - lr * v``;
    momentum 0 is ``params <- params - lr * g``.
    """

    def __init__(self, params: torch.Tensor, lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.velocity = torch.zeros_like(params)
        self.started = False

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        if self.momentum == 0.0:
            self.params.add_(grad, alpha=-self.lr)
            return
        if self.started:
            self.velocity.mul_(self.momentum).add_(grad)
        else:
            self.velocity.copy_(grad)
            self.started = True
        self.params.add_(self.velocity, alpha=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"velocity": self.velocity.clone(), "started": self.started}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.velocity.copy_(state["velocity"])
        self.started = bool(state["started"])


def make_optimizer(name: Optimizer, params: torch.Tensor, lr: float, momentum: float = 0.0) -> FlatOptimizer:
    """``adam``, ``rmsprop`` or ``sgd`` (with ``momentum``, SGD only) over ``params`` (n_seeds, n_params)."""
    if name == "adam":
        return Adam(params, lr)
    if name == "rmsprop":
        return RMSprop(params, lr)
    if name == "sgd":
        return SGD(params, lr, momentum)
    raise ValueError(f"unknown optimizer {name!r}; choose adam, rmsprop or sgd")
