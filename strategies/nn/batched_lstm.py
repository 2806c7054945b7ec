"""An LSTM with a leading seed dimension: S independent models as one computation.

Why: ten seeds trained one step per day over 8,300 days is 83,000 tiny updates if
done model by model; per-step Python and dispatch overhead, not arithmetic,
dominates. Here every weight carries a leading seed axis and each step is a few
batched matmuls and elementwise ops for all seeds at once, with a hand-written
backward pass (no autograd graph). ``torch.func.vmap`` cannot batch ``nn.LSTM``;
this cell can.

Shapes: S seeds, B batch rows (tickers), I inputs, H hidden units, L layers.
All parameters live in one flat tensor ``params`` of shape (S, P), so gradient
scaling and the optimizer are a few ops over one tensor. Layer l has
``W_l`` (I_l + H, 4H) (input rows, then hidden rows) and ``b_l`` (4H), gates in
the order [input, forget, output, candidate]; the head maps the top hidden state
to one prediction: ``w`` (H, 1), ``b`` (1).

Initialization matches ``torch.nn.LSTM`` + ``torch.nn.Linear`` (uniform in
±1/sqrt(H); LSTM bias = b_ih + b_hh), drawn from each seed's own generator, so a
seed gets the same model whether it runs alone or among others; the layout and
the draws are :class:`~strategies.nn.lstm_init.LstmShape`'s (numpy, shared with the
compiled path); :meth:`BatchedLSTM.torch_modules` rebuilds those modules for comparison.

Bitwise independence of seeds: torch's CPU kernels run a vectorized body and a
scalar tail, which can round differently; a seed's numbers must not depend on
whether they fall in the body or the tail. So every per-seed block is padded to a
multiple of ``ALIGN`` floats: the hidden width is rounded up with inert units
(zero weights in and out; they stay exactly zero, so the model is the same
function) and the flat parameter row is padded too. Batched matmuls take another
kernel path for a batch of one, so a single seed runs beside an identical shadow
copy of itself. Seed k then gives bit-identical results alone or among others
(tested).

Activation ``tanh`` or ``phi_tanh`` (tanh scaled by the golden ratio 1.618...),
used for the candidate and the cell output, as Keras' ``activation``.

Backward: :meth:`backward` propagates an error injected at the last of a list of
step caches back through all of them (truncated BPTT over that window), using the
activations stored when each step ran forward: the classic online BPTT(h).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from strategies.nn.lstm_init import ALIGN, PHI, Activation, LstmShape

__all__ = ["ALIGN", "PHI", "Activation", "BatchedLSTM", "LayerCache", "StepCache"]


@dataclass
class LayerCache:
    """What one layer's forward step keeps for the backward pass (all (S, B, .))."""

    x: torch.Tensor  # the layer's input, (S, B, I_l)
    h_prev: torch.Tensor  # (S, B, H)
    sig: torch.Tensor  # sigmoid gates [i, f, o], (S, B, 3H)
    cand: torch.Tensor  # candidate act(z_g), (S, B, H)
    c_prev: torch.Tensor  # (S, B, H)
    act_c: torch.Tensor  # act(c_new), (S, B, H)


@dataclass
class StepCache:
    """What one forward step keeps for the backward pass: every layer's cache, the top state, the output."""

    layers: list[LayerCache]
    top: torch.Tensor  # top hidden state h, (S, B, H)
    output: torch.Tensor  # the prediction y, (S, B)

    def state_dict(self) -> dict[str, Any]:
        """Plain data for a checkpoint: dicts of the tensors (not copied) and a list of the layers'."""
        return {
            "layers": [{f.name: getattr(layer, f.name) for f in fields(layer)} for layer in self.layers],
            "top": self.top,
            "output": self.output,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> StepCache:
        """The step cache :meth:`state_dict` described."""
        return cls([LayerCache(**layer) for layer in state["layers"]], state["top"], state["output"])


class BatchedLSTM:
    """S independently initialized LSTM regressors with shared shapes, one flat parameter tensor."""

    def __init__(
        self,
        seeds: tuple[int, ...],
        n_inputs: int,
        hidden: int = 64,
        layers: int = 1,
        activation: Activation = "tanh",
        device: torch.device | None = None,
        params: np.ndarray | None = None,
    ) -> None:
        """``params``: parameter rows (rows, total) float32 to use instead of the initial ones (a CPU
        model shares their memory: the compiled day step's view of its own state)."""
        shape = LstmShape(tuple(seeds), n_inputs, hidden, layers, activation)
        self.shape = shape
        self.seeds = shape.seeds
        self.rows = shape.rows  # a lone seed gets a shadow copy (see the module docstring)
        self.n_inputs, self.hidden, self.n_layers = n_inputs, hidden, layers
        self.width, self.phi = shape.width, shape.phi  # hidden units incl. inert padding
        # drawn on the CPU in numpy (the same initial bits on every device and for both backends)
        self.device = torch.device("cpu") if device is None else device
        self.params = torch.from_numpy(shape.initial_params() if params is None else params).to(self.device)
        self.grad = torch.zeros_like(self.params)
        self._phi_t = torch.tensor(self.phi, device=self.device)
        self._p, self._g = self._views(self.params), self._views(self.grad)

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        views, offset = [], 0
        for shape in self.shape.shapes:
            n = math.prod(shape)
            views.append(flat[:, offset : offset + n].view(flat.shape[0], *shape))
            offset += n
        return views

    def torch_modules(self, row: int) -> tuple[torch.nn.LSTM, torch.nn.Linear]:
        """``nn.LSTM`` + ``nn.Linear`` with exactly the initial weights of seed ``row`` (for comparisons)."""
        drawn = self.shape.drawn(self.seeds[row])
        lstm = torch.nn.LSTM(self.n_inputs, self.hidden, num_layers=self.n_layers, batch_first=True)
        head = torch.nn.Linear(self.hidden, 1)
        with torch.no_grad():
            for l_idx, d in enumerate(drawn[:-1]):
                getattr(lstm, f"weight_ih_l{l_idx}").copy_(torch.from_numpy(d["w_ih"]))
                getattr(lstm, f"weight_hh_l{l_idx}").copy_(torch.from_numpy(d["w_hh"]))
                getattr(lstm, f"bias_ih_l{l_idx}").copy_(torch.from_numpy(d["b_ih"]))
                getattr(lstm, f"bias_hh_l{l_idx}").copy_(torch.from_numpy(d["b_hh"]))
            head.weight.copy_(torch.from_numpy(drawn[-1]["weight"]))
            head.bias.copy_(torch.from_numpy(drawn[-1]["bias"]))
        return lstm, head

    # --- forward ---------------------------------------------------------------------------
    def zero_state(self, batch: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Hidden and cell states per layer, zeros of shape (S, B, H)."""
        shape = (len(self.rows), batch, self.width)
        return (
            [torch.zeros(shape, device=self.device) for _ in range(self.n_layers)],
            [torch.zeros(shape, device=self.device) for _ in range(self.n_layers)],
        )

    def _act(self, z: torch.Tensor) -> torch.Tensor:
        out = torch.tanh(z)
        return out.mul_(self.phi) if self.phi != 1.0 else out

    def _split(self, layer: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Views (W_in, W_hh, b) of a layer's parameters."""
        w, b = self._p[2 * layer], self._p[2 * layer + 1]
        n_in = w.shape[1] - self.width
        return w[:, :n_in], w[:, n_in:], b

    def forward(
        self, xs: torch.Tensor, h: list[torch.Tensor], c: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], list[StepCache]]:
        """Run T steps. ``xs``: (T, B, I), the same for every seed.

        Returns the predictions of every step (T, S, B), the final states and one
        cache per step (states and caches are internal: they may hold a shadow row).
        The input projection of the first layer is computed for all steps in one
        batched matmul; only the recurrence is sequential.
        """
        hidden, s_count = self.width, len(self.rows)
        steps, batch = xs.shape[0], xs.shape[1]
        w_in, w_hh, b = self._split(0)
        x0 = xs.reshape(1, steps * batch, -1).expand(s_count, -1, -1)
        projected = torch.baddbmm(b, x0, w_in).view(s_count, steps, batch, 4 * hidden)
        h, c = list(h), list(c)
        ys, caches = [], []
        for t in range(steps):
            inp = x0[:, t * batch : (t + 1) * batch]
            layer_caches = []
            for layer in range(self.n_layers):
                if layer == 0:
                    z = torch.baddbmm(projected[:, t], h[0], w_hh)
                else:
                    w_in_l, w_hh_l, b_l = self._split(layer)
                    z = torch.baddbmm(torch.baddbmm(b_l, inp, w_in_l), h[layer], w_hh_l)
                sig = torch.sigmoid(z[..., : 3 * hidden])
                cand = self._act(z[..., 3 * hidden :])
                c_new = torch.addcmul(sig[..., hidden : 2 * hidden] * c[layer], sig[..., :hidden], cand)
                act_c = self._act(c_new)
                h_new = sig[..., 2 * hidden :] * act_c
                layer_caches.append(LayerCache(inp, h[layer], sig, cand, c[layer], act_c))
                h[layer], c[layer] = h_new, c_new
                inp = h_new
            y = torch.baddbmm(self._p[-1], inp, self._p[-2]).squeeze(-1)
            ys.append(y)
            caches.append(StepCache(layer_caches, inp, y))
        return torch.stack(ys)[:, : len(self.seeds)], h, c, caches

    # --- backward --------------------------------------------------------------------------
    def _act_grad(self, a: torch.Tensor) -> torch.Tensor:
        """d act / d z written with a = act(z): phi - a^2 / phi (1 - a^2 for tanh)."""
        return torch.addcmul(self._phi_t, a, a, value=-1.0 / self.phi)

    def backward(self, steps: list[StepCache], dy: torch.Tensor) -> torch.Tensor:
        """Gradient (S, P) of a loss whose derivative w.r.t. the last step's output is ``dy`` (S, B).

        The error flows back through every step in ``steps`` (oldest first) and
        stops before the first (truncated BPTT). Weight gradients are summed over
        the steps with one batched matmul per layer. Returns the flat gradient
        tensor (reused between calls).
        """
        hidden = self.width
        last = steps[-1]
        if len(self.rows) > len(dy):
            dy = dy.expand(len(self.rows), -1)  # the shadow row learns as its seed does
        dy3 = dy.unsqueeze(-1)  # (S, B, 1)
        self._g[-2].copy_(torch.bmm(last.top.transpose(1, 2), dy3))
        self._g[-1].copy_(dy3.sum(dim=1, keepdim=True))
        d_top = torch.bmm(dy3, self._p[-2].transpose(1, 2))  # (S, B, H)
        dh_next: list[torch.Tensor | None] = [None] * self.n_layers
        dc_next: list[torch.Tensor | None] = [None] * self.n_layers
        dzs: list[list[torch.Tensor]] = [[] for _ in range(self.n_layers)]
        used: list[list[LayerCache]] = [[] for _ in range(self.n_layers)]
        for t in range(len(steps) - 1, -1, -1):
            from_above: torch.Tensor | None = d_top if t == len(steps) - 1 else None
            for layer in range(self.n_layers - 1, -1, -1):
                cache = steps[t].layers[layer]
                parts = [g for g in (from_above, dh_next[layer]) if g is not None]
                if not parts:
                    continue  # nothing flows into this layer at this step
                dh = parts[0] if len(parts) == 1 else parts[0] + parts[1]
                sig = cache.sig
                i_g, f_g, o_g = sig[..., :hidden], sig[..., hidden : 2 * hidden], sig[..., 2 * hidden :]
                dc = dh * o_g * self._act_grad(cache.act_c)
                if dc_next[layer] is not None:
                    dc.add_(dc_next[layer])
                d_sig = torch.cat([dc * cache.cand, dc * cache.c_prev, dh * cache.act_c], dim=2)
                d_sig.mul_(sig * (1.0 - sig))
                d_cand = dc * i_g * self._act_grad(cache.cand)
                dz = torch.cat([d_sig, d_cand], dim=2)
                dzs[layer].append(dz)
                used[layer].append(cache)
                dc_next[layer] = dc * f_g
                w_in, w_hh, _ = self._split(layer)
                dh_next[layer] = torch.bmm(dz, w_hh.transpose(1, 2)) if t > 0 else None
                from_above = torch.bmm(dz, w_in.transpose(1, 2)) if layer > 0 else None
        for layer in range(self.n_layers):
            caches = used[layer][::-1]
            dz_all = torch.cat(dzs[layer][::-1], dim=1)  # (S, T*B, 4H), steps in time order
            inputs = torch.cat([torch.cat([k.x, k.h_prev], dim=2) for k in caches], dim=1)
            self._g[2 * layer].copy_(torch.bmm(inputs.transpose(1, 2), dz_all))
            self._g[2 * layer + 1].copy_(dz_all.sum(dim=1, keepdim=True))
        return self.grad
