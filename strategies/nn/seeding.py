"""Seeds and determinism for torch models.

Each seed gets its own ``torch.Generator``, so a seed's initialization does not
depend on which other seeds run beside it. ``deterministic_torch`` pins torch to
one intra-op thread for the duration of a run: results then do not depend on the
machine's core count or on how a reduction was split, and for the small tensors of
these models one thread is also the fastest.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def seed_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (plus a fixed offset, so seed 0 is not torch's default)."""
    return torch.Generator().manual_seed(1_000_003 * (seed + 1))


@contextmanager
def deterministic_torch(threads: int = 1) -> Iterator[None]:
    """Run with ``threads`` intra-op threads and deterministic algorithms; restore afterwards."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
