"""The online LSTM's day step as one seam: a protocol, and the torch implementation.

:class:`LstmDayStep` is what ``lstm-stateful`` / ``lstm-stateless`` call each day:
``step`` runs the day's inputs through the model (all seeds) and keeps the
activations for back-propagation; ``learn`` takes one optimizer step once the
target of the newest kept step is known; ``state_dict`` / ``load_state_dict``
carry the model, optimizer, kept steps and (stateful) hidden state through a
checkpoint. Two implementations hold the same state in the same checkpoint format:

- :class:`TorchDayStep` (here): :class:`~strategies.nn.batched_lstm.BatchedLSTM`'s
  batched forward and hand-written backward, on any torch device (the reference);
- :class:`~strategies.nn.lstm_kernel.NumbaDayStep`: the same step compiled with
  numba, on the CPU (about 4x faster there: 0.4 s vs 1.6 s for 2,000 days of ten seeds).

The strategy picks one in ``begin`` (:func:`make_day_step`) and never branches on
it afterwards.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch

from strategies.nn.batched_lstm import BatchedLSTM, StepCache
from strategies.nn.device import on_cpu, on_device, to_device
from strategies.nn.gradients import seed_norms
from strategies.nn.losses import Loss

Backend = Literal["torch", "numba"]


class TrainerLike(Protocol):
    """What a day step needs of :class:`strategies.learning.Trainer` (no import cycle)."""

    optimizer: Any  # Adam or RMSprop of strategies.nn.optim (SGD too on torch) over the model's params
    loss: Loss
    grad_mode: str
    grad_norm: float

    def loss_derivative(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...

    def step(self, grad: torch.Tensor) -> None: ...


@runtime_checkable
class LstmDayStep(Protocol):
    """One day of the online LSTM, for every seed at once.

    ``model`` holds the parameters (S rows; a lone seed has a shadow row, see
    :mod:`strategies.nn.seeding`), ``kept`` the number of steps kept for BPTT (at
    most ``ring``). With ``carry`` the hidden state runs on from step to step
    (stateful); without, each ``step`` starts from a zero state and forgets the
    steps kept before (stateless: a window of days per call).
    """

    model: BatchedLSTM

    @property
    def kept(self) -> int:
        """Steps kept for back-propagation (0 before the first ``step``)."""
        ...

    def step(self, xs: np.ndarray) -> np.ndarray:
        """Run the steps ``xs`` (T, tickers, inputs) float32 (oldest first); returns the last step's
        predictions (seeds, tickers) in target units (the running std), as float32 numpy."""
        ...

    def learn(self, target: np.ndarray, known: np.ndarray) -> np.ndarray:
        """One optimizer step on the newest kept step's outputs against ``target`` (tickers,) where
        ``known`` (tickers, bool; at least one True); returns each seed's raw gradient norm (float64)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """CPU tensors: ``params``, ``optimizer``, ``pending`` (kept steps, oldest first, as
        :class:`StepCache` dicts), ``extra`` (``h``/``c`` per layer with ``carry``, else empty)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (also from checkpoints written by the other backend)."""
        ...


class TorchDayStep:
    """:class:`LstmDayStep` on torch (any device): the reference implementation."""

    def __init__(
        self, model: BatchedLSTM, trainer: TrainerLike, ring: int, n_tickers: int, carry: bool
    ) -> None:
        self.model, self.trainer = model, trainer
        self.ring, self.n_tickers, self.carry = ring, n_tickers, carry
        self.n_seeds = len(model.seeds)
        self.steps: deque[StepCache] = deque(maxlen=ring)
        self.h, self.c = model.zero_state(n_tickers)

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
        return {
            "params": self.model.params.cpu().clone(),
            "optimizer": on_cpu(self.trainer.optimizer.state_dict()),
            "pending": [on_cpu(c.state_dict()) for c in self.steps],
            "extra": on_cpu({"h": [t.clone() for t in self.h], "c": [t.clone() for t in self.c]})
            if self.carry
            else {},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        dev = self.model.device
        self.model.params.copy_(state["params"])
        self.trainer.optimizer.load_state_dict(state["optimizer"])
        self.steps = deque(
            (StepCache.from_state_dict(on_device(c, dev)) for c in state["pending"]), maxlen=self.ring
        )
        if self.carry:
            extra = on_device(state["extra"], dev)
            self.h = [t.clone() for t in extra["h"]]
            self.c = [t.clone() for t in extra["c"]]


def make_day_step(
    backend: Backend, model: BatchedLSTM, trainer: TrainerLike, ring: int, n_tickers: int, carry: bool
) -> LstmDayStep:
    """The day step of ``backend`` over ``model`` and ``trainer``'s optimizer (numba: CPU only)."""
    if backend == "numba":
        from strategies.nn.lstm_kernel import NumbaDayStep

        return NumbaDayStep(model, trainer, ring, n_tickers, carry)
    return TorchDayStep(model, trainer, ring, n_tickers, carry)
