"""The annual LSTM's last-output step: the same bits as BatchedLSTM.forward + backward."""

from __future__ import annotations

import pytest
import torch

from strategies.nn.batched_lstm import BatchedLSTM
from strategies.nn.last_output import last_output_gradient, last_output_prediction


@pytest.mark.parametrize(
    ("seeds", "batch", "n_inputs", "hidden", "activation"),
    [
        ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 128, 2, 32, "tanh"),  # the annual picker's shape
        ((3,), 37, 5, 32, "tanh"),  # a lone seed (shadow row), an odd batch
        ((1, 2), 64, 3, 20, "phi_tanh"),  # padded hidden units, the scaled activation
    ],
)
def test_same_bits_as_forward_backward(seeds, batch, n_inputs, hidden, activation):
    torch.set_num_threads(1)
    general = BatchedLSTM(seeds, n_inputs, hidden=hidden, activation=activation)
    fast = BatchedLSTM(seeds, n_inputs, hidden=hidden, activation=activation)
    gen = torch.Generator().manual_seed(0)
    for _ in range(8):  # training steps: the parameters move, and must move the same way
        xs = torch.randn(12, batch, n_inputs, generator=gen)
        target = torch.randn(batch, generator=gen)
        ys, _, _, caches = general.forward(xs, *general.zero_state(batch))
        assert torch.equal(last_output_prediction(fast, xs), ys[-1])
        want = general.backward(caches, torch.tanh(ys[-1] - target) / batch).clone()
        got = last_output_gradient(fast, xs, lambda y, t=target: torch.tanh(y - t) / batch).clone()
        assert torch.equal(got, want)
        general.params.sub_(0.1 * want)
        fast.params.sub_(0.1 * got)
    assert torch.equal(general.params, fast.params)


def test_one_layer_only():
    model = BatchedLSTM((0,), 2, hidden=8, layers=2)
    with pytest.raises(ValueError, match="one-layer"):
        last_output_prediction(model, torch.zeros(3, 4, 2))
    with pytest.raises(ValueError, match="one-layer"):
        last_output_gradient(model, torch.zeros(3, 4, 2), lambda y: y)
