"""A small causal transformer encoder with a leading seed dimension, trained by autograd.

S independently initialized models (one per seed) live in one flat parameter
tensor ``params`` of shape (S, P), so gradient modes and the flat optimizers of
this package apply unchanged, and every seed's forward pass is one batched
computation (``torch.matmul`` broadcasting over the seed axis).

Architecture (pre-LayerNorm, no dropout, deterministic):
input rows (W, F) -> linear embedding to d_model -> + positions (sinusoidal, or
learned) -> L x [x + causal multi-head self-attention(LN(x)); x + FFN(LN(x))] ->
LN -> the last position -> linear head -> one prediction. Causal: position i
attends to positions <= i only.

Shapes: S seeds, N samples, W window rows, F features, D = d_model. Inputs may be
shared by all seeds (N, W, F) or per seed (S, N, W, F) (each seed samples its own
mini-batches). As in :mod:`.batched_lstm`, a single seed runs beside a shadow copy
so that seed k gives the same bits alone or among others, and D is rounded up to
a multiple of ``ALIGN`` by the caller's choice of sizes (d_model 32 or 64).

Attention is ``fused`` by default: torch's ``scaled_dot_product_attention``, whose
CPU kernel (flash attention, forward and backward) is about twice as fast as the
softmax written out for W = 60 and head width 8, and computes every (sample, head)
independently, so bits still do not depend on which seeds run beside a seed.
``explicit`` keeps the written-out softmax: the reference the tests compare with,
and the path the benchmark uses to reproduce the old timings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch

from strategies.nn.device import to_device
from strategies.nn.seeding import seed_generator, seed_rows

Positions = Literal["sinusoidal", "learned"]
Attention = Literal["fused", "explicit"]


@dataclass(frozen=True)
class TransformerShape:
    n_features: int
    window: int
    d_model: int = 32
    layers: int = 2
    heads: int = 4
    ffn: int = 64
    positions: Positions = "sinusoidal"
    attention: Attention = "fused"
    zero_head: bool = False  # the output layer starts at zero: every seed first predicts 0


def _sinusoidal(window: int, d_model: int) -> torch.Tensor:
    pos = torch.arange(window, dtype=torch.float64)[:, None]
    i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angles = pos / (10000.0 ** (i / d_model))
    out = torch.zeros(window, d_model, dtype=torch.float64)
    out[:, 0::2] = torch.sin(angles)
    out[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return out.float()


class _SplitQKV(torch.autograd.Function):
    """``qkv.permute(2, 0, 3, 1, 4)`` unpacked into q, k, v (with ``last``: q of the last position
    only, ``q[:, :, -1:]``), with a backward that writes the three gradients straight into one
    tensor of ``qkv``'s layout: autograd's own unbind stacks them, then copies the permuted stack
    again (about a tenth of an annual training step), and its slice of q fills a full-size zero
    gradient and copies it through a transpose (about 4% of a daily training step). Same values,
    the same q, k, v views (sizes and strides) as the permute and slice give."""

    @staticmethod
    def forward(
        ctx: Any, qkv: torch.Tensor, last: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        ctx.shape, ctx.last = qkv.shape, last
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        return (q[:, :, -1:] if last else q), k, v

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor | None) -> tuple[torch.Tensor, None]:
        out = next(g for g in grads if g is not None).new_empty(ctx.shape)
        parts = out.permute(2, 0, 3, 1, 4)
        for i, (part, grad) in enumerate(zip(parts, grads, strict=True)):
            if ctx.last and i == 0:  # q: zero gradient except at the last position
                part[:, :, :-1].zero_()
                part = part[:, :, -1:]
            if grad is None:
                part.zero_()
            else:
                part.copy_(grad)
        return out, None


class _Unflatten(torch.autograd.Function):
    """The flat (S, P) parameters as named views, with a backward that writes every view's
    gradient into one (S, P) tensor. Autograd's own slicing gives each of the ~30 views a
    zero-filled (S, P) gradient and adds them up (about 5% of a training step). Same values:
    each entry is its one gradient plus exact zeros, which turns a -0.0 into +0.0, as the
    ``add_(0.0)`` below does."""

    @staticmethod
    def forward(ctx: Any, flat: torch.Tensor, layout: tuple[tuple[int, int, tuple[int, ...]], ...]) -> Any:
        ctx.layout, ctx.shape = layout, flat.shape
        rows = flat.shape[0]
        return tuple(flat[:, offset : offset + n].view(rows, *shape) for offset, n, shape in layout)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor | None) -> tuple[torch.Tensor, None]:
        out = next(g for g in grads if g is not None).new_zeros(ctx.shape)
        rows = out.shape[0]
        for (offset, n, shape), grad in zip(ctx.layout, grads, strict=True):
            if grad is not None:
                out[:, offset : offset + n].view(rows, *shape).copy_(grad)
        return out.add_(0.0), None


class BatchedTransformer:
    """S causal transformer regressors sharing a shape, one flat parameter tensor (on ``device``:
    inputs are expected there, outputs are there)."""

    def __init__(
        self, seeds: tuple[int, ...], shape: TransformerShape, device: torch.device | None = None
    ) -> None:
        if shape.d_model % shape.heads:
            raise ValueError(f"d_model {shape.d_model} is not divisible by heads {shape.heads}")
        self.seeds = tuple(seeds)
        self.rows = seed_rows(self.seeds)  # a lone seed gets a shadow copy (see batched_lstm)
        self.shape = shape
        d, f, w = shape.d_model, shape.n_features, shape.window
        spec: list[tuple[str, tuple[int, ...], str]] = [
            ("embed_w", (f, d), "linear"),
            ("embed_b", (d,), "zero"),
        ]
        if shape.positions == "learned":
            spec.append(("pos", (w, d), "normal"))
        for layer in range(shape.layers):
            spec += [
                (f"ln1_g{layer}", (d,), "one"),
                (f"ln1_b{layer}", (d,), "zero"),
                (f"qkv_w{layer}", (d, 3 * d), "linear"),
                (f"qkv_b{layer}", (3 * d,), "zero"),
                (f"out_w{layer}", (d, d), "linear"),
                (f"out_b{layer}", (d,), "zero"),
                (f"ln2_g{layer}", (d,), "one"),
                (f"ln2_b{layer}", (d,), "zero"),
                (f"ff1_w{layer}", (d, shape.ffn), "linear"),
                (f"ff1_b{layer}", (shape.ffn,), "zero"),
                (f"ff2_w{layer}", (shape.ffn, d), "linear"),
                (f"ff2_b{layer}", (d,), "zero"),
            ]
        spec += [
            ("lnf_g", (d,), "one"),
            ("lnf_b", (d,), "zero"),
            # last in the spec, so its kind does not change how the other blocks are drawn
            ("head_w", (d, 1), "zero" if shape.zero_head else "linear"),
            ("head_b", (1,), "zero"),
        ]
        self._spec = spec
        layout, offset = [], 0
        for _, block, _ in spec:
            layout.append((offset, math.prod(block), block))
            offset += math.prod(block)
        self._layout = tuple(layout)  # (offset, size, shape) of each named block in a row
        total = sum(math.prod(s) for _, s, _ in spec)
        total = -(-total // 64) * 64  # pad rows (see batched_lstm: aligned per-seed blocks)
        self.params = torch.zeros(len(self.rows), total)
        for row, seed in enumerate(self.rows):
            self._init_row(row, seed_generator(seed))
        # drawn on the CPU (a seed's initial weights are the same bits on every device), then moved
        self.device = torch.device("cpu") if device is None else device
        self.params = to_device(self.params, self.device)
        self.params.requires_grad_(True)
        self._mask = to_device(torch.full((w, w), float("-inf")).triu(1), self.device)
        self._pos = to_device(_sinusoidal(w, d), self.device) if shape.positions == "sinusoidal" else None
        # views of the detached parameters, made once: they follow the optimizer's in-place
        # updates, and spare prediction (no autograd) rebuilding ~30 views per call
        self._frozen = self._broadcastable(self._views(self.params.detach()))

    def _init_row(self, row: int, gen: torch.Generator) -> None:
        offset = 0
        for _, shape, kind in self._spec:
            n = math.prod(shape)
            block = self.params[row, offset : offset + n]
            if kind == "linear":  # like nn.Linear: uniform in +-1/sqrt(fan_in)
                bound = 1.0 / math.sqrt(shape[0])
                block.copy_((torch.rand(n, generator=gen) * 2 - 1) * bound)
            elif kind == "normal":
                block.copy_(torch.randn(n, generator=gen) * 0.02)
            elif kind == "one":
                block.fill_(1.0)
            offset += n

    def views(self) -> dict[str, torch.Tensor]:
        """Named views (S, ...) into ``params`` (they carry autograd)."""
        views = _Unflatten.apply(self.params, self._layout)
        return dict(zip((name for name, _, _ in self._spec), views, strict=True))

    def _views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        out, offset = {}, 0
        for name, shape, _ in self._spec:
            n = math.prod(shape)
            out[name] = flat[:, offset : offset + n].view(len(self.rows), *shape)
            offset += n
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions (S, N) for inputs (N, W, F) shared by all seeds, or (S, N, W, F) per seed.

        Linear maps are one ``baddbmm`` per seed over all N*W rows (no broadcast
        copies of the weights); attention is batched over seeds, samples and heads.
        Without autograd (``torch.no_grad``/``inference_mode``) it reads the parameters
        through views made once.
        """
        grad = torch.is_grad_enabled()
        p = self._broadcastable(self.views()) if grad else self._frozen
        s_count = len(self.rows)
        if x.dim() == 3:
            x = x.unsqueeze(0).expand(s_count, -1, -1, -1)
        elif x.shape[0] != s_count:  # per-seed inputs for a lone seed: feed its shadow the same
            x = x.expand(s_count, -1, -1, -1)
        sh = self.shape
        d, heads = sh.d_model, sh.heads
        dh = d // heads
        n, w = x.shape[1], x.shape[2]

        def linear(a: torch.Tensor, weight: str, bias: str) -> torch.Tensor:
            return torch.baddbmm(p[bias], a, p[weight])

        h = linear(x.reshape(s_count, n * w, -1), "embed_w", "embed_b")  # (S, N*W, D)
        pos = self._pos[:w] if self._pos is not None else p["pos"][:, :w]
        h = (h.view(s_count, n, w, d) + pos.view(-1, 1, w, d)).view(s_count, n * w, d)
        for layer in range(sh.layers):
            final = layer == sh.layers - 1
            a = self._layer_norm(h, p[f"ln1_g{layer}"], p[f"ln1_b{layer}"])
            qkv = linear(a, f"qkv_w{layer}", f"qkv_b{layer}").view(s_count * n, w, 3, heads, dh)
            att = self._attend(qkv, s_count, n, final, grad)  # (S, N * rows, D)
            if final:  # only the last position feeds the head: its query alone was attended from
                h = h.view(s_count, n, w, d)[:, :, -1]
            h = h + linear(att, f"out_w{layer}", f"out_b{layer}")
            b = self._layer_norm(h, p[f"ln2_g{layer}"], p[f"ln2_b{layer}"])
            ff = torch.nn.functional.gelu(linear(b, f"ff1_w{layer}", f"ff1_b{layer}"))
            h = h + linear(ff, f"ff2_w{layer}", f"ff2_b{layer}")
        last = h  # (S, N, D): the last position after the final layer
        last = self._layer_norm(last, p["lnf_g"], p["lnf_b"])
        y = torch.baddbmm(p["head_b"], last, p["head_w"])
        return y.squeeze(-1)[: len(self.seeds)]

    def _attend(self, qkv: torch.Tensor, s_count: int, n: int, final: bool, grad: bool) -> torch.Tensor:
        """Causal multi-head attention of (S*N, W, 3, heads, dh) projections: (S, N * rows, D), rows
        W, or 1 in the final layer (the last position's query alone, attending to all keys)."""
        w, heads, dh = qkv.shape[1], qkv.shape[3], qkv.shape[4]
        d = heads * dh
        if self.shape.attention == "fused":
            if grad:  # (S*N, heads, rows, dh) each
                q, k, v = _SplitQKV.apply(qkv, final)
            else:  # without autograd the plain views (the same sizes and strides)
                q, k, v = qkv.permute(2, 0, 3, 1, 4)
                q = q[:, :, -1:] if final else q
            att = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=not final)
            return att.transpose(1, 2).reshape(s_count, n * att.shape[2], d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).reshape(3, s_count * n * heads, w, dh)
        if final:
            q, mask = q[:, -1:], self._mask[w - 1 : w, :w]
        else:
            mask = self._mask[:w, :w]
        rows = q.shape[1]
        # scores transposed, (S*N*heads, keys, rows): torch's CPU softmax over a short last
        # axis is several times slower than over a middle one
        scores = torch.baddbmm(mask.T, k, q.transpose(1, 2), alpha=1.0 / math.sqrt(dh))
        att = torch.bmm(torch.softmax(scores, dim=1).transpose(1, 2), v)  # (S*N*heads, rows, dh)
        return att.view(s_count * n, heads, rows, dh).transpose(1, 2).reshape(s_count, n * rows, d)

    @staticmethod
    def _broadcastable(views: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``views`` with each vector (S, n) as (S, 1, n), the shape biases and gains are used in."""
        return {name: v[:, None] if v.dim() == 2 else v for name, v in views.items()}

    @staticmethod
    def _layer_norm(h: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """LayerNorm over the last axis of (S, rows, D) with per-seed gain and bias (S, 1, D).

        ``torch.layer_norm`` is the op ``nn.functional.layer_norm`` calls, without its Python
        checks (a prediction calls it five times)."""
        return torch.addcmul(bias, torch.layer_norm(h, h.shape[-1:], None, None, 1e-5, True), gain)
