"""One training step of a one-layer :class:`BatchedLSTM` on its last output only, without copies.

The annual pickers train on sequences of 12 monthly rows whose loss is on the
last step's prediction: ``forward`` over the window, then ``backward`` from the
last step (:meth:`BatchedLSTM.forward` / :meth:`BatchedLSTM.backward`). Those
general methods also compute the head at every step (for the daily strategies'
per-step outputs) and assemble the backward pass's tensors with ``torch.cat``
(about a sixth of a step's time at 500 tickers). :func:`last_output_gradient`
runs the same arithmetic, op for op on the same values, so the gradient is the
same bits (tested against the general pair), but:

- the head is applied at the last step only (the others' outputs are unused);
- each step's gate errors are written straight into one (S, T*B, 4H) tensor, and
  each step's layer input and previous hidden state into one (S, T*B, I+H)
  tensor, which are exactly what the weight-gradient matmul reads (the general
  pair concatenates per-step pieces twice).

Only products, sums and differences are written into views (``out=``): they are
correctly rounded whatever the memory layout. The transcendental ops (sigmoid,
tanh), the matmuls and the reductions read and write tensors of the same shapes
and layouts as in the general pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from strategies.nn.batched_lstm import BatchedLSTM

__all__ = ["last_output_gradient", "last_output_prediction"]


def last_output_prediction(model: BatchedLSTM, xs: torch.Tensor) -> torch.Tensor:
    """The last step's predictions (seeds, B) for inputs ``xs`` (T, B, I) from zero states: the same
    bits as ``model.forward(xs, *model.zero_state(B))[0][-1]``, the head applied once. One layer only."""
    if model.n_layers != 1:
        raise ValueError("last_output_prediction: one-layer models only")
    width, s_count = model.width, len(model.rows)
    steps, batch, _ = xs.shape
    w_in, w_hh, b = model._split(0)
    x0 = xs.reshape(1, steps * batch, -1).expand(s_count, -1, -1)
    projected = torch.baddbmm(b, x0, w_in).view(s_count, steps, batch, 4 * width)
    h, c = model.zero_state(batch)
    h, c = h[0], c[0]
    for t in range(steps):
        z = torch.baddbmm(projected[:, t], h, w_hh)
        sig = torch.sigmoid(z[..., : 3 * width])
        cand = model._act(z[..., 3 * width :])
        c = torch.addcmul(sig[..., width : 2 * width] * c, sig[..., :width], cand)
        h = sig[..., 2 * width :] * model._act(c)
    return torch.baddbmm(model._p[-1], h, model._p[-2]).squeeze(-1)[: len(model.seeds)]


@dataclass
class _Window:
    """What the forward pass over a window keeps for the backward pass (per step, oldest first)."""

    inputs: torch.Tensor  # [x_t, h_{t-1}] of every step in time order, (S, T*B, I+H)
    top: torch.Tensor  # the last hidden state, (S, B, H)
    sigs: list[torch.Tensor]  # sigmoid gates [i, f, o], (S, B, 3H)
    cands: list[torch.Tensor]  # candidates act(z_g), (S, B, H)
    c_prevs: list[torch.Tensor]  # cell states before the step, (S, B, H)
    act_cs: list[torch.Tensor]  # act(c_new), (S, B, H)


def last_output_gradient(
    model: BatchedLSTM, xs: torch.Tensor, derivative: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """The gradient (S, P) of a loss on the last step's prediction, for inputs ``xs`` (T, B, I).

    Zero initial states. ``derivative`` maps the last predictions (seeds, B) to
    d loss / d prediction (seeds, B). The same bits as ``model.forward`` from zero
    states followed by ``model.backward(caches, derivative(ys[-1]))``. Returns the
    model's gradient tensor (reused between calls). One layer only.
    """
    if model.n_layers != 1:
        raise ValueError("last_output_gradient: one-layer models only")
    window = _forward(model, xs)
    y = torch.baddbmm(model._p[-1], window.top, model._p[-2]).squeeze(-1)
    dy = derivative(y[: len(model.seeds)])
    if len(model.rows) > len(dy):
        dy = dy.expand(len(model.rows), -1)  # the shadow row learns as its seed does
    _backward(model, window, dy, xs.shape[1])
    return model.grad


def _forward(model: BatchedLSTM, xs: torch.Tensor) -> _Window:
    """``BatchedLSTM.forward``'s recurrence from zero states, keeping what the backward pass reads."""
    width, s_count = model.width, len(model.rows)
    steps, batch, n_in = xs.shape
    w_in, w_hh, b = model._split(0)
    x0 = xs.reshape(1, steps * batch, -1).expand(s_count, -1, -1)
    projected = torch.baddbmm(b, x0, w_in).view(s_count, steps, batch, 4 * width)
    inputs = torch.empty(s_count, steps * batch, n_in + width, device=xs.device)
    inputs[:, :, :n_in] = x0
    h, c = model.zero_state(batch)
    window = _Window(inputs, h[0], [], [], [], [])
    h, c = h[0], c[0]
    for t in range(steps):
        inputs[:, t * batch : (t + 1) * batch, n_in:] = h
        z = torch.baddbmm(projected[:, t], h, w_hh)
        sig = torch.sigmoid(z[..., : 3 * width])
        cand = model._act(z[..., 3 * width :])
        c_new = torch.addcmul(sig[..., width : 2 * width] * c, sig[..., :width], cand)
        act_c = model._act(c_new)
        window.sigs.append(sig)
        window.cands.append(cand)
        window.c_prevs.append(c)
        window.act_cs.append(act_c)
        h, c = sig[..., 2 * width :] * act_c, c_new
    window.top = h
    return window


def _backward(model: BatchedLSTM, window: _Window, dy: torch.Tensor, batch: int) -> None:
    """``BatchedLSTM.backward`` from the last step's output error ``dy`` (S, B), into ``model.grad``."""
    width, s_count, steps = model.width, len(model.rows), len(window.sigs)
    dy3 = dy.unsqueeze(-1)
    model._g[-2].copy_(torch.bmm(window.top.transpose(1, 2), dy3))
    model._g[-1].copy_(dy3.sum(dim=1, keepdim=True))
    dh = torch.bmm(dy3, model._p[-2].transpose(1, 2))
    # every step's gate errors, in time order: the rows the weight gradient reads
    dz_all = torch.empty(s_count, steps * batch, 4 * width, device=dy.device)
    dc_next: torch.Tensor | None = None
    w_hh_t = model._split(0)[1].transpose(1, 2)
    for t in range(steps - 1, -1, -1):
        sig, cand, act_c = window.sigs[t], window.cands[t], window.act_cs[t]
        i_g, f_g, o_g = sig[..., :width], sig[..., width : 2 * width], sig[..., 2 * width :]
        dc = dh * o_g * model._act_grad(act_c)
        if dc_next is not None:
            dc.add_(dc_next)
        dz = dz_all[:, t * batch : (t + 1) * batch]
        torch.mul(dc, cand, out=dz[..., :width])
        torch.mul(dc, window.c_prevs[t], out=dz[..., width : 2 * width])
        torch.mul(dh, act_c, out=dz[..., 2 * width : 3 * width])
        dz[..., : 3 * width].mul_(sig * (1.0 - sig))
        torch.mul(dc * i_g, model._act_grad(cand), out=dz[..., 3 * width :])
        dc_next = dc * f_g
        if t > 0:
            dh = torch.bmm(dz, w_hh_t)
    model._g[0].copy_(torch.bmm(window.inputs.transpose(1, 2), dz_all))
    model._g[1].copy_(dz_all.sum(dim=1, keepdim=True))
