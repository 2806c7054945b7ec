"""The hand-written batched LSTM against torch.nn.LSTM and autograd."""

from __future__ import annotations

import pytest
import torch

from strategies.nn.batched_lstm import BatchedLSTM, StepCache


def autograd_reference(model: BatchedLSTM, xs: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """The same forward written with autograd; returns d(dy . y_last)/d params."""
    params = model.params.clone().requires_grad_(True)
    views = model._views(params)
    hidden, s_count, batch = model.width, len(model.seeds), xs.shape[1]
    h = [torch.zeros(s_count, batch, hidden) for _ in range(model.n_layers)]
    c = [torch.zeros(s_count, batch, hidden) for _ in range(model.n_layers)]
    act = lambda z: torch.tanh(z) * model.phi  # noqa: E731
    for t in range(xs.shape[0]):
        inp = xs[t].expand(s_count, -1, -1)
        for layer in range(model.n_layers):
            z = torch.baddbmm(views[2 * layer + 1], torch.cat([inp, h[layer]], dim=2), views[2 * layer])
            i, f, o = (torch.sigmoid(z[..., k * hidden : (k + 1) * hidden]) for k in range(3))
            g = act(z[..., 3 * hidden :])
            c[layer] = f * c[layer] + i * g
            h[layer] = o * act(c[layer])
            inp = h[layer]
    y = torch.baddbmm(views[-1], inp, views[-2]).squeeze(-1)
    (y * dy).sum().backward()
    return params.grad


@pytest.mark.parametrize("layers,activation,steps", [(1, "tanh", 1), (1, "phi_tanh", 5), (2, "tanh", 4)])
def test_backward_matches_autograd(layers, activation, steps):
    torch.manual_seed(0)
    model = BatchedLSTM((0, 1, 2), n_inputs=3, hidden=8, layers=layers, activation=activation)
    xs = torch.randn(steps, 2, 3)
    h, c = model.zero_state(2)
    _, _, _, caches = model.forward(xs, h, c)
    dy = torch.randn(3, 2)
    got = model.backward(caches, dy).clone()
    expected = autograd_reference(model, xs, dy)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_forward_matches_torch_nn_lstm_for_each_seed():
    model = BatchedLSTM((4, 7), n_inputs=2, hidden=16, layers=2)
    xs = torch.randn(6, 1, 2)
    ys, _, _, _ = model.forward(xs, *model.zero_state(1))
    for row in range(2):
        lstm, head = model.torch_modules(row)
        out, _ = lstm(xs.transpose(0, 1))
        torch.testing.assert_close(ys[:, row, 0], head(out[0]).squeeze(-1), rtol=1e-5, atol=1e-6)


def test_seed_initialization_is_independent_of_the_other_seeds():
    alone = BatchedLSTM((3,), n_inputs=1, hidden=8)
    among = BatchedLSTM((0, 1, 2, 3), n_inputs=1, hidden=8)
    assert torch.equal(alone.params[0], among.params[3])
    assert not torch.equal(among.params[0], among.params[1])


def test_padding_units_stay_inert_through_training():
    from strategies.nn.optim import Adam

    model = BatchedLSTM((0,), n_inputs=2, hidden=5)
    assert model.width == 32
    start = model.params.clone()
    opt = Adam(model.params, 1e-2)
    h, c = model.zero_state(1)
    for _ in range(20):
        _, h, c, caches = model.forward(torch.randn(1, 1, 2), h, c)
        opt.step(model.backward(caches, torch.randn(1, 1)).clone())
    assert (h[0][..., 5:] == 0).all()
    assert (model.params[start == 0] == 0).all()  # padding weights never move


def test_step_cache_state_round_trip():
    model = BatchedLSTM((0, 1), n_inputs=3, hidden=4, layers=2)
    xs = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    _, _, _, caches = model.forward(xs, *model.zero_state(5))
    state = caches[-1].state_dict()
    assert set(state["layers"][0]) == {"x", "h_prev", "sig", "cand", "c_prev", "act_c"}
    again = StepCache.from_state_dict(state)
    dy = torch.ones(2, 5)
    torch.testing.assert_close(model.backward([again], dy), model.backward([caches[-1]], dy), rtol=0, atol=0)
