"""The numpy initial weights are torch's, bit for bit: the compiled path starts where the torch path does."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from strategies.nn.batched_lstm import BatchedLSTM
from strategies.nn.lstm_init import LstmShape, torch_rand
from strategies.nn.seeding import seed_generator


@pytest.mark.parametrize("seed", [0, 1, 7, 4294, 5000, 10**6, 2**31 - 1, 2**40 + 3])
def test_torch_rand_replays_torchs_cpu_generator(seed):
    value = 1_000_003 * (seed + 1)
    expected = torch.rand(3000, generator=torch.Generator().manual_seed(value)).numpy()
    got = torch_rand(value, 3000)
    assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), expected.view(np.uint32))


def torch_draws(shape: LstmShape, seed: int) -> list[torch.Tensor]:
    """The reference: torch.nn.LSTM / nn.Linear's init drawn as before, from the seed's generator."""
    gen, h = seed_generator(seed), shape.hidden
    bound = 1.0 / math.sqrt(h)
    out = []
    for size in [shape.n_inputs] + [h] * (shape.layers - 1):
        for dims in ((4 * h, size), (4 * h, h), (4 * h,), (4 * h,)):
            out.append((torch.rand(*dims, generator=gen) * 2 - 1) * bound)
    out += [(torch.rand(1, h, generator=gen) * 2 - 1) * bound, (torch.rand(1, generator=gen) * 2 - 1) * bound]
    return out


@pytest.mark.parametrize(
    "seeds,n_inputs,hidden,layers",
    [((0, 1, 2), 3, 8, 2), ((5,), 1, 64, 1), (tuple(range(10)), 1, 64, 1), ((3, 9), 4, 33, 3)],
)
def test_initial_weights_are_torchs_bit_for_bit(seeds, n_inputs, hidden, layers):
    shape = LstmShape(seeds, n_inputs, hidden, layers)
    for seed in seeds:
        drawn = shape.drawn(seed)
        flat = [a for layer in drawn for a in layer.values()]
        for got, expected in zip(flat, torch_draws(shape, seed), strict=True):
            assert np.array_equal(got.view(np.uint32), expected.numpy().view(np.uint32))
    params = shape.initial_params()
    model = BatchedLSTM(seeds, n_inputs, hidden, layers)
    assert np.array_equal(model.params.numpy().view(np.uint32), params.view(np.uint32))
    lstm, _ = model.torch_modules(0)  # the same weights as torch's own modules hold them
    assert torch.equal(lstm.weight_ih_l0, torch_draws(shape, seeds[0])[0])
