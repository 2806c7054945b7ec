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
    width, s_count = model.width, len(model.rows)
    steps, batch, n_in = xs.shape
    w_in, w_hh, b = model._split(0)
    x0 = xs.reshape(1, steps * batch, -1).expand(s_count, -1, -1)
    projected = torch.baddbmm(b, x0, w_in).view(s_count, steps, batch, 4 * width)
    # [x_t, h_{t-1}] for every step, in time order: the rows the weight gradient reads
    inputs = torch.empty(s_count, steps * batch, n_in + width, device=xs.device)
    inputs[:, :, :n_in] = x0
    h, c = model.zero_state(batch)
    h, c = h[0], c[0]
    sigs, cands, c_prevs, act_cs = [], [], [], []
    for t in range(steps):
        inputs[:, t * batch : (t + 1) * batch, n_in:] = h
        z = torch.baddbmm(projected[:, t], h, w_hh)
        sig = torch.sigmoid(z[..., : 3 * width])
        cand = model._act(z[..., 3 * width :])
        c_new = torch.addcmul(sig[..., width : 2 * width] * c, sig[..., :width], cand)
        act_c = model._act(c_new)
        sigs.append(sig)
        cands.append(cand)
        c_prevs.append(c)
        act_cs.append(act_c)
        h, c = sig[..., 2 * width :] * act_c, c_new
    y = torch.baddbmm(model._p[-1], h, model._p[-2]).squeeze(-1)
    dy = derivative(y[: len(model.seeds)])
    if s_count > len(dy):
        dy = dy.expand(s_count, -1)  # the shadow row learns as its seed does
    dy3 = dy.unsqueeze(-1)
    model._g[-2].copy_(torch.bmm(h.transpose(1, 2), dy3))
    model._g[-1].copy_(dy3.sum(dim=1, keepdim=True))
    dh = torch.bmm(dy3, model._p[-2].transpose(1, 2))
    dz_all = torch.empty(s_count, steps * batch, 4 * width, device=xs.device)
    dc_next: torch.Tensor | None = None
    w_hh_t = w_hh.transpose(1, 2)
    for t in range(steps - 1, -1, -1):
        sig, cand, act_c = sigs[t], cands[t], act_cs[t]
        i_g, f_g, o_g = sig[..., :width], sig[..., width : 2 * width], sig[..., 2 * width :]
        dc = dh * o_g * model._act_grad(act_c)
        if dc_next is not None:
            dc.add_(dc_next)
        dz = dz_all[:, t * batch : (t + 1) * batch]
        torch.mul(dc, cand, out=dz[..., :width])
        torch.mul(dc, c_prevs[t], out=dz[..., width : 2 * width])
        torch.mul(dh, act_c, out=dz[..., 2 * width : 3 * width])
        dz[..., : 3 * width].mul_(sig * (1.0 - sig))
        torch.mul(dc * i_g, model._act_grad(cand), out=dz[..., 3 * width :])
        dc_next = dc * f_g
        if t > 0:
            dh = torch.bmm(dz, w_hh_t)
    model._g[0].copy_(torch.bmm(inputs.transpose(1, 2), dz_all))
    model._g[1].copy_(dz_all.sum(dim=1, keepdim=True))
    return model.grad
