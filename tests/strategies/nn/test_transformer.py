"""The seed-batched transformer against torch's own encoder layers; causality; seed independence."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from strategies.nn.transformer import BatchedTransformer, TransformerShape, _sinusoidal


def reference(model: BatchedTransformer, row: int, x: torch.Tensor) -> torch.Tensor:
    """The same network assembled from torch.nn modules with seed ``row``'s weights."""
    sh = model.shape
    p = {k: v[row].detach() for k, v in model.views().items()}
    d = sh.d_model
    h = x @ p["embed_w"] + p["embed_b"]
    h = h + (_sinusoidal(sh.window, d) if sh.positions == "sinusoidal" else p["pos"])[: x.shape[1]]
    mask = torch.full((x.shape[1], x.shape[1]), float("-inf")).triu(1)
    for layer in range(sh.layers):
        enc = torch.nn.TransformerEncoderLayer(
            d, sh.heads, sh.ffn, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
        )
        with torch.no_grad():
            enc.self_attn.in_proj_weight.copy_(p[f"qkv_w{layer}"].T)
            enc.self_attn.in_proj_bias.copy_(p[f"qkv_b{layer}"])
            enc.self_attn.out_proj.weight.copy_(p[f"out_w{layer}"].T)
            enc.self_attn.out_proj.bias.copy_(p[f"out_b{layer}"])
            enc.linear1.weight.copy_(p[f"ff1_w{layer}"].T)
            enc.linear1.bias.copy_(p[f"ff1_b{layer}"])
            enc.linear2.weight.copy_(p[f"ff2_w{layer}"].T)
            enc.linear2.bias.copy_(p[f"ff2_b{layer}"])
            for name in ("1", "2"):
                getattr(enc, f"norm{name}").weight.copy_(p[f"ln{name}_g{layer}"])
                getattr(enc, f"norm{name}").bias.copy_(p[f"ln{name}_b{layer}"])
        enc.eval()
        h = enc(h, src_mask=mask)
    last = torch.nn.functional.layer_norm(h[:, -1], (d,), p["lnf_g"], p["lnf_b"])
    return (last @ p["head_w"] + p["head_b"]).squeeze(-1)


@pytest.mark.parametrize("attention", ["fused", "explicit"])
@pytest.mark.parametrize("positions,layers", [("sinusoidal", 2), ("learned", 1), ("sinusoidal", 3)])
def test_forward_matches_torch_encoder_layers(positions, layers, attention):
    torch.manual_seed(0)
    shape = TransformerShape(
        n_features=3,
        window=12,
        d_model=16,
        layers=layers,
        heads=4,
        ffn=24,
        positions=positions,
        attention=attention,
    )
    model = BatchedTransformer((0, 5, 9), shape)
    with torch.no_grad():  # non-trivial norms and biases
        model.params.add_(torch.randn_like(model.params) * 0.05)
    x = torch.randn(7, 12, 3)
    with torch.no_grad():
        got = model.forward(x)
        for row in range(3):
            torch.testing.assert_close(got[row], reference(model, row, x), rtol=1e-4, atol=1e-5)


def test_causal_and_seeds_independent():
    shape = TransformerShape(n_features=2, window=10, d_model=32, layers=2, heads=4, ffn=32)
    among = BatchedTransformer((1, 2, 3), shape)
    alone = BatchedTransformer((2,), shape)
    x = torch.randn(5, 10, 2)
    with torch.no_grad():
        assert torch.equal(among.forward(x)[1], alone.forward(x)[0])
        # a prediction is a function of its own window only (rows are samples, not time)
        y = among.forward(x)
        x2 = x.clone()
        x2[1:] += 1.0
        assert torch.equal(among.forward(x2)[:, 0], y[:, 0])


def test_gradients_flow_to_every_used_parameter():
    shape = TransformerShape(n_features=1, window=8, d_model=16, layers=2, heads=2, ffn=16)
    model = BatchedTransformer((0, 1), shape)
    model.forward(torch.randn(4, 8, 1)).sum().backward()
    grad = model.params.grad
    used = sum(math.prod(s) for _, s, _ in model._spec)
    assert torch.isfinite(grad).all()
    assert (grad[:, :used].abs().sum(dim=0) > 0).float().mean() > 0.95


def test_fused_and_explicit_attention_agree_with_gradients():
    """The fused kernel is the explicit softmax up to float rounding, gradients included."""
    x = torch.randn(2, 6, 60, 1)  # per-seed inputs, W = 60 as the strategy uses
    out = {}
    for attention in ("fused", "explicit"):
        model = BatchedTransformer((3, 4), TransformerShape(n_features=1, window=60, attention=attention))
        y = model.forward(x)
        y.square().sum().backward()
        out[attention] = (y.detach(), model.params.grad)
    torch.testing.assert_close(out["fused"][0], out["explicit"][0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out["fused"][1], out["explicit"][1], rtol=1e-3, atol=1e-5)


def test_zero_head_predicts_zero_and_leaves_the_other_draws_alone():
    shape = TransformerShape(n_features=2, window=8, d_model=16, layers=1, heads=2, ffn=16)
    plain = BatchedTransformer((0, 1), shape)
    zero = BatchedTransformer((0, 1), replace(shape, zero_head=True))
    with torch.no_grad():
        assert torch.equal(zero.forward(torch.randn(3, 8, 2)), torch.zeros(2, 3))
    pv, zv = plain.views(), zero.views()
    assert not torch.equal(pv["head_w"], zv["head_w"])
    assert all(torch.equal(pv[k], zv[k]) for k in pv if k != "head_w")


def test_prediction_without_autograd_follows_in_place_updates():
    """Inference reads views made once: they must see the optimizer's in-place steps."""
    model = BatchedTransformer((0, 1), TransformerShape(n_features=1, window=8, d_model=16, heads=2))
    x = torch.randn(4, 8, 1)
    with torch.inference_mode():
        before = model.forward(x)
    with torch.no_grad():
        model.params.add_(0.01)
    with torch.inference_mode():
        after = model.forward(x)
    assert torch.equal(after, model.forward(x).detach())
    assert not torch.equal(before, after)


def test_split_qkv_same_gradient_as_unbind():
    from strategies.nn.transformer import _SplitQKV

    gen = torch.Generator().manual_seed(5)
    base = torch.randn(6, 12, 3, 4, 8, generator=gen)
    grads = []
    for split in (_SplitQKV.apply, lambda t: tuple(t.permute(2, 0, 3, 1, 4))):
        qkv = base.clone().requires_grad_(True)
        q, k, v = split(qkv * 1.0)
        att = torch.nn.functional.scaled_dot_product_attention(q[:, :, -1:], k, v)
        (att.sin().sum() + v.sum()).backward()
        grads.append(qkv.grad)
    assert torch.equal(grads[0], grads[1])


def test_split_qkv_last_query_same_gradient_as_slice():
    """``last``: q of the last position only, the gradient as autograd's slice gives it (zeros elsewhere)."""
    from strategies.nn.transformer import _SplitQKV

    gen = torch.Generator().manual_seed(6)
    base = torch.randn(6, 12, 3, 4, 8, generator=gen)
    grads = []
    for last in (True, False):
        qkv = base.clone().requires_grad_(True)
        q, k, v = _SplitQKV.apply(qkv * 1.0, last)
        q = q if last else q[:, :, -1:]
        att = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        (att.sin().sum() + v.sum()).backward()
        grads.append(qkv.grad)
    assert torch.equal(grads[0], grads[1])
    assert torch.equal(grads[0].signbit(), grads[1].signbit())


def test_parameter_gradient_same_bits_as_autograd_slicing():
    """The views' one-tensor backward (``_Unflatten``) against plain slices of ``params``: the same
    gradient bit for bit, signs of zeros included (the zero head makes most of it +-0 at first)."""
    shape = TransformerShape(n_features=2, window=8, d_model=16, layers=2, heads=2, ffn=16, zero_head=True)
    model = BatchedTransformer((0, 1, 2), shape)
    x = torch.randn(3, 5, 8, 2, generator=torch.Generator().manual_seed(7))
    grads = []
    for sliced in (False, True):
        if sliced:
            model.views = lambda: model._views(model.params)  # type: ignore[method-assign]
        model.params.grad = None
        (model.forward(x) - 0.5).square().sum().backward()
        grads.append(model.params.grad.clone())
    assert torch.equal(grads[0], grads[1])
    assert torch.equal(grads[0].signbit(), grads[1].signbit())
