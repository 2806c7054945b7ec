"""The online LSTM's day step on torch (any device): the reference implementation of the seam.

:class:`TorchDayStep` runs :class:`~strategies.nn.batched_lstm.BatchedLSTM`'s batched
forward and hand-written backward and a trainer's optimizer step
(:mod:`strategies.nn.day_step` describes the seam and the compiled alternative). Its
checkpoint state is numpy arrays with the compiled path's keys, shapes and dtypes,
so a run continues on either backend and on any device.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

import numpy as np
import torch

from strategies.nn.batched_lstm import BatchedLSTM, StepCache
from strategies.nn.device import map_tensors, to_device
from strategies.nn.gradients import seed_norms
from strategies.nn.losses import Loss
from strategies.nn.lstm_init import LstmShape


class TrainerLike(Protocol):
    """What a day step needs of :class:`strategies.learning.Trainer` (no import cycle)."""

    optimizer: Any  # Adam, RMSprop or SGD of strategies.nn.optim over the model's params
    loss: Loss
    grad_mode: str
    grad_norm: float

    def loss_derivative(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...

    def step(self, grad: torch.Tensor) -> None: ...


def as_arrays(state: Any) -> Any:
    """``state`` (nested dicts and lists) with every tensor as a numpy copy on the CPU (a checkpoint)."""
    # copy: contiguous, also for an expanded view
    return map_tensors(state, lambda t: t.detach().cpu().numpy().copy())


def as_tensors(state: Any, device: torch.device) -> Any:
    """``state`` with every numpy array (or tensor) as a tensor on ``device`` (copies of arrays)."""
    if isinstance(state, np.ndarray):
        return to_device(torch.from_numpy(np.array(state)), device)
    if isinstance(state, torch.Tensor):
        return to_device(state, device)
    if isinstance(state, dict):
        return {k: as_tensors(v, device) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(as_tensors(v, device) for v in state)
    return state


class TorchDayStep:
    """:class:`~strategies.nn.day_step.LstmDayStep` on torch (any device): the reference implementation."""

    def __init__(
        self, model: BatchedLSTM, trainer: TrainerLike, ring: int, n_tickers: int, carry: bool
    ) -> None:
        self.model, self.trainer = model, trainer
        self.ring, self.n_tickers, self.carry = ring, n_tickers, carry
        self.n_seeds = len(model.seeds)
        self.steps: deque[StepCache] = deque(maxlen=ring)
        self.h, self.c = model.zero_state(n_tickers)

    @classmethod
    def of(
        cls, shape: LstmShape, training: Any, ring: int, n_tickers: int, carry: bool, device: Any = None
    ) -> TorchDayStep:
        """A fresh model of ``shape`` on ``device`` with a :class:`strategies.learning.Trainer` of
        ``training`` (the strategy's parameters)."""
        from strategies.learning import Trainer

        s = shape
        model = BatchedLSTM(s.seeds, s.n_inputs, s.hidden, s.layers, s.activation, device)
        return cls(model, Trainer(training, model.params), ring, n_tickers, carry)

    @property
    def shape(self) -> LstmShape:
        return self.model.shape

    @property
    def params(self) -> torch.Tensor:
        return self.model.params

    @property
    def kept(self) -> int:
        return len(self.steps)

    def step(self, xs: np.ndarray) -> np.ndarray:
        x = to_device(torch.from_numpy(xs), self.model.device)
        if self.carry:
            ys, self.h, self.c, caches = self.model.forward(x, self.h, self.c)
        else:
            h, c = self.model.zero_state(self.n_tickers)
            ys, _, _, caches = self.model.forward(x, h, c)
            self.steps.clear()
        self.steps.extend(caches)
        return ys[-1].cpu().numpy()

    def learn(self, target: np.ndarray, known: np.ndarray) -> np.ndarray:
        dev = self.model.device
        y = self.steps[-1].output
        dy = (
            self.trainer.loss_derivative(
                y, to_device(torch.from_numpy(np.nan_to_num(target).astype(np.float32)), dev)
            )
            * to_device(torch.from_numpy(known.astype(np.float32)), dev)
            / float(known.sum())
        )
        grad = self.model.backward(list(self.steps), dy)
        norms = seed_norms(grad)[: self.n_seeds, 0].double().cpu().numpy()
        self.trainer.step(grad)
        return norms

    def state_dict(self) -> dict[str, Any]:
        return as_arrays(
            {
                "params": self.model.params,
                "optimizer": self.trainer.optimizer.state_dict(),
                "pending": [c.state_dict() for c in self.steps],
                "extra": {"h": self.h, "c": self.c} if self.carry else {},
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s state (numpy arrays, or tensors, written by either backend)."""
        dev = self.model.device
        state = as_tensors(state, dev)
        self.model.params.copy_(state["params"])
        self.trainer.optimizer.load_state_dict(state["optimizer"])
        self.steps = deque((StepCache.from_state_dict(c) for c in state["pending"]), maxlen=self.ring)
        if self.carry:
            self.h = [t.clone() for t in state["extra"]["h"]]
            self.c = [t.clone() for t in state["extra"]["c"]]
