"""Seeds of the batched torch models: one generator per seed, and the rows a model computes.

Each seed gets its own ``torch.Generator``, so a seed's initialization does not
depend on which other seeds run beside it. A batched model (seed axis first) holds
one parameter row per seed, and a lone seed beside an identical shadow copy of
itself: torch's batched matmuls take another kernel path for a batch of one, so
without the shadow a seed run alone would round differently than among others.
Torch's thread and algorithm settings for a run are in :mod:`strategies.nn.torch_threads`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

SEED_STRIDE = 1_000_003  # seed k's generator starts from SEED_STRIDE * (k + 1): seed 0 is not torch's default


def seed_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (plus a fixed offset, so seed 0 is not torch's default).

    torch is imported here, not with this module: the compiled LSTM path draws the
    same numbers without it (:func:`strategies.nn.lstm_init.torch_rand`)."""
    import torch

    return torch.Generator().manual_seed(SEED_STRIDE * (seed + 1))


def seed_rows(seeds: tuple[int, ...]) -> tuple[int, ...]:
    """The seed of each parameter row of a batched model: ``seeds``, or a lone seed twice (its shadow).

    Row ``i`` is initialized from ``seed_generator(rows[i])``; outputs for rows past
    ``len(seeds)`` (the shadow) are dropped by the callers.
    """
    return seeds if len(seeds) > 1 else seeds * 2
