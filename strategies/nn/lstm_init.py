"""The batched LSTM's layout and initial weights, in numpy: what both day-step backends start from.

Why numpy: the compiled day step (:mod:`strategies.nn.lstm_kernel`) runs without
torch, and importing torch costs about a second of every run's start-up (a
quarter of a warm ``lstm-stateful`` run). The initial weights are still those of
``torch.nn.LSTM`` + ``torch.nn.Linear`` drawn from each seed's
``torch.Generator`` (:func:`strategies.nn.seeding.seed_generator`), bit for bit:
:func:`torch_rand` replays torch's CPU generator (Mersenne Twister MT19937 seeded
with the low 32 bits of the seed, one 32-bit draw per float32 value, its low 24
bits over 2^24, drawn in order) with numpy's own MT19937; a test compares it with
``torch.rand`` for many seeds. No library offers torch's generator without torch.

Layout (shared with :class:`~strategies.nn.batched_lstm.BatchedLSTM` and the
numba kernels): per seed row one flat float32 vector; layer l has ``W_l``
((I_l + width) x 4 width: input rows then hidden rows, gates [i, f, o, g]) then
``b_l`` (4 width); the head ``w`` (width x 1) and ``b`` (1); the row is padded
to a multiple of ``2 * ALIGN`` floats. ``width`` is the hidden size rounded up to
``ALIGN`` with inert units (zero weights in and out), see ``batched_lstm``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from strategies.nn.seeding import SEED_STRIDE, seed_rows

PHI = (1.0 + math.sqrt(5.0)) / 2.0
ALIGN = 32  # floats: two AVX-512 vectors, the widest unrolled step of torch's CPU loops
Activation = Literal["tanh", "phi_tanh"]


def torch_rand(seed: int, n: int) -> np.ndarray:
    """What ``torch.rand(n, generator=torch.Generator().manual_seed(seed))`` gives, as float32 numpy.

    torch's CPU generator is MT19937 initialized with ``seed mod 2^32`` (the classic
    ``init_genrand``, which numpy's legacy seeding of an int also uses); each float32
    value takes one 32-bit output and keeps its low 24 bits, times 2^-24 (exact).
    """
    legacy = np.random.RandomState(seed % 2**32)  # init_genrand(seed): torch's seeding
    bits = np.random.MT19937()
    bits.state = {
        "bit_generator": "MT19937",
        "state": dict(zip(("key", "pos"), legacy.get_state()[1:3], strict=True)),
    }
    raw = bits.random_raw(n).astype(np.uint32)  # the generator's 32-bit outputs, in order
    return (raw & np.uint32(0xFFFFFF)).astype(np.float32) * np.float32(2.0**-24)


@dataclass(frozen=True)
class LstmShape:
    """The sizes of S batched LSTM regressors and where each weight sits in a flat parameter row."""

    seeds: tuple[int, ...]
    n_inputs: int
    hidden: int = 64
    layers: int = 1
    activation: Activation = "tanh"

    def __post_init__(self) -> None:
        if self.activation not in ("tanh", "phi_tanh"):
            raise ValueError(f"unknown activation {self.activation!r}; choose tanh or phi_tanh")

    @property
    def rows(self) -> tuple[int, ...]:
        """The seed of each parameter row: the seeds, or a lone seed and its shadow (``seed_rows``)."""
        return seed_rows(tuple(self.seeds))

    @property
    def width(self) -> int:
        """Hidden units per layer including the inert padding (a multiple of ``ALIGN``)."""
        return -(-self.hidden // ALIGN) * ALIGN

    @property
    def phi(self) -> float:
        """The activation's scale: the golden ratio for ``phi_tanh``, else 1."""
        return PHI if self.activation == "phi_tanh" else 1.0

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The weight blocks of a row in order: per layer ``W`` and ``b``, then the head's ``w`` and ``b``."""
        width = self.width
        out: list[tuple[int, ...]] = []
        for size in [self.n_inputs] + [width] * (self.layers - 1):
            out += [(size + width, 4 * width), (1, 4 * width)]
        return [*out, (width, 1), (1, 1)]

    @property
    def total(self) -> int:
        """Floats per parameter row, padded to a multiple of ``2 * ALIGN``."""
        used = sum(math.prod(s) for s in self.shapes)
        return -(-used // (2 * ALIGN)) * (2 * ALIGN)

    def drawn(self, seed: int) -> list[dict[str, np.ndarray]]:
        """Seed ``seed``'s initial weights as ``torch.nn.LSTM`` / ``nn.Linear`` name and shape them
        (gates [i, f, g, o]): per layer ``w_ih``, ``w_hh``, ``b_ih``, ``b_hh``, then ``weight``, ``bias``;
        each uniform in ±1/sqrt(hidden), drawn in that order from the seed's generator."""
        h = self.hidden
        sizes = [self.n_inputs] + [h] * (self.layers - 1)
        shapes: list[tuple[int, ...]] = []
        for size in sizes:
            shapes += [(4 * h, size), (4 * h, h), (4 * h,), (4 * h,)]
        shapes += [(1, h), (1,)]
        draws = torch_rand(SEED_STRIDE * (seed + 1), sum(math.prod(s) for s in shapes))
        # as (torch.rand(...) * 2 - 1) * bound in float32: both steps exact but the last, rounded once
        values = (draws * np.float32(2.0) - np.float32(1.0)) * np.float32(1.0 / math.sqrt(h))
        blocks, offset = [], 0
        for shape in shapes:
            n = math.prod(shape)
            blocks.append(values[offset : offset + n].reshape(shape))
            offset += n
        names = ("w_ih", "w_hh", "b_ih", "b_hh")
        layers = [dict(zip(names, blocks[4 * i : 4 * i + 4], strict=True)) for i in range(self.layers)]
        return [*layers, {"weight": blocks[-2], "bias": blocks[-1]}]

    def initial_params(self) -> np.ndarray:
        """The flat parameter rows (rows, total) float32: each row its seed's :meth:`drawn` weights,
        gates reordered to [i, f, o, g], the two LSTM biases summed, padding zero."""
        out = np.zeros((len(self.rows), self.total), np.float32)
        for row, seed in enumerate(self.rows):
            self._fill_row(out[row], self.drawn(seed))
        return out

    def _fill_row(self, flat: np.ndarray, drawn: list[dict[str, np.ndarray]]) -> None:
        h, width = self.hidden, self.width
        blocks = self.views(flat[None])

        def gates(t: np.ndarray) -> np.ndarray:
            """(4H, n) in torch's order [i, f, g, o] -> (4*width, n) in ours [i, f, o, g], padded."""
            i, f, g, o = np.split(t, 4, axis=0)
            out = np.zeros((4 * width, t.shape[1]), np.float32)
            for k, block in enumerate((i, f, o, g)):
                out[k * width : k * width + h] = block
            return out

        for layer, d in enumerate(drawn[:-1]):
            n_in = self.n_inputs if layer == 0 else width
            w = np.zeros((4 * width, n_in + width), np.float32)
            w[:, : d["w_ih"].shape[1]] = gates(d["w_ih"])
            w[:, n_in : n_in + h] = gates(d["w_hh"])
            blocks[2 * layer][0] = w.T
            blocks[2 * layer + 1][0] = gates((d["b_ih"] + d["b_hh"])[:, None]).T
        blocks[-2][0, :h] = drawn[-1]["weight"].T
        blocks[-1][0] = drawn[-1]["bias"][None, :]

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Views (rows, *shape) of ``flat`` (rows, total) for each block of :attr:`shapes`, in order."""
        out, offset = [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            out.append(flat[:, offset : offset + n].reshape(flat.shape[0], *shape))
            offset += n
        return out
