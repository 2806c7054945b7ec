"""``gru-online``: a GRU with a golden-ratio tanh, trained online one step per day.

Written against the public plugin API only (see docs/plugins.md): a subclass of
``OnlineStrategy`` with typed parameters, one model per seed seeded with the
engine's helper, the built-in losses, gradient modes, running normalization and
signal mapping. Each day t: ``learn`` takes one optimizer step on
(yesterday's input -> today's realized delta); ``decide`` feeds today's delta and
emits weights for (t, t+1].
"""

from __future__ import annotations

import math

import numpy as np
import torch
from pydantic import Field

from strategies import History, OnlineStrategy
from strategies.learning import LearningParams, SignalParams, members_of, to_target, weights_for
from strategies.nn.gradients import apply_gradient_mode
from strategies.nn.losses import bce_value, get_loss
from strategies.nn.normalize import RunningNorm
from strategies.nn.seeding import seed_generator
from strategies.nn.torch_threads import pin_torch, restore_torch

PHI = (1 + math.sqrt(5)) / 2


class GruParams(LearningParams, SignalParams):
    hidden: int = Field(16, ge=1, le=256, description="GRU units")
    warmup_years: float = Field(5.0, ge=0, description="years of training before trading")


class PhiGRUCell(torch.nn.Module):
    """A GRU cell whose candidate activation is phi * tanh (the user's activation)."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.gates = torch.nn.Linear(n_in + hidden, 2 * hidden)
        self.candidate = torch.nn.Linear(n_in + hidden, hidden)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z, r = torch.sigmoid(self.gates(torch.cat([x, h], dim=-1))).chunk(2, dim=-1)
        c = PHI * torch.tanh(self.candidate(torch.cat([x, r * h], dim=-1)))
        h = (1 - z) * h + z * c
        return self.head(h).squeeze(-1), h


class GruOnline(OnlineStrategy):
    name = "gru-online"
    summary = "example plugin: online GRU with a phi-scaled tanh, one step per day"
    stochastic = True
    Params = GruParams
    params: GruParams

    def members(self, seeds: tuple[int, ...]) -> tuple[int | str, ...]:
        return members_of(seeds, self.params.ensemble)

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        p = self.params
        self._torch = pin_torch()  # one thread: same bits on any machine, and fast for tiny models
        self.models, self.optimizers, self.states = [], [], []
        for seed in seeds:
            torch.manual_seed(seed_generator(seed).initial_seed())  # each seed: its own initialization
            model = PhiGRUCell(1, p.hidden)
            self.models.append(model)
            if p.optimizer == "sgd":
                self.optimizers.append(torch.optim.SGD(model.parameters(), lr=p.lr, momentum=p.momentum))
            else:
                opt_cls = torch.optim.Adam if p.optimizer == "adam" else torch.optim.RMSprop
                self.optimizers.append(opt_cls(model.parameters(), lr=p.lr))
            self.states.append(torch.zeros(1, p.hidden))
        self.loss = get_loss(p.loss)
        self.norm = RunningNorm(1)
        self.pending: list[tuple[torch.Tensor, torch.Tensor]] = []  # (input, state before) per seed
        self.scale = 1.0
        self.trade_from = history.dates[0] + np.timedelta64(round(p.warmup_years * 365.25), "D")

    def end(self) -> None:
        restore_torch(self._torch)

    def learn(self, history: History) -> None:
        delta = history.deltas[-1, 0]
        if not self.pending or np.isnan(delta):
            return
        # target=direction: 1.0 for an up day, 0.0 otherwise, with binary cross-entropy on a logit
        target = torch.tensor(
            to_target(self.params.target, np.array([delta]), self.scale), dtype=torch.float32
        )
        for model, opt, (x, h) in zip(self.models, self.optimizers, self.pending, strict=True):
            y, _ = model(x, h)
            opt.zero_grad()
            loss = bce_value(y, target) if self.params.target == "direction" else self.loss.value(y - target)
            loss.mean().backward()
            grad = torch.cat([q.grad.reshape(1, -1) for q in model.parameters()], dim=1)
            apply_gradient_mode(grad, self.params.grad_mode, self.params.grad_norm)
            offset = 0
            for q in model.parameters():
                q.grad.copy_(grad[0, offset : offset + q.numel()].view_as(q))
                offset += q.numel()
            opt.step()

    @torch.no_grad()
    def decide(self, history: History) -> np.ndarray:
        delta = np.nan_to_num(history.deltas[-1:, 0])
        self.norm.update(delta)
        self.scale = float(max(self.norm.std[0], 1e-6))
        x = torch.tensor(self.norm.transform(delta), dtype=torch.float32).view(1, 1)
        predictions = []
        self.pending = []
        for i, model in enumerate(self.models):
            self.pending.append((x, self.states[i]))
            y, self.states[i] = model(x, self.states[i])
            predictions.append(float(y[0]) * self.scale)
        if history.today < self.trade_from:
            return np.full((len(self.members(tuple(range(len(self.models))))), 1), np.nan)
        predicted = np.array(predictions)[:, None]
        return weights_for(predicted, np.full(1, self.scale), self.params)
