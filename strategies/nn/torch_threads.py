"""Torch's global settings for the length of a run: one intra-op thread, optionally deterministic algorithms.

Why one thread: results then do not depend on the machine's core count or on how a
reduction was split across threads (same seed => same bits), and for the small
tensors of these models one thread is also the fastest. The settings are
process-global, so a strategy pins them in ``begin`` and restores them in ``end``
(the engine calls ``end`` also when the run fails): :func:`pin_torch` returns what
it replaced, :func:`restore_torch` puts it back.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TorchSettings:
    """Torch's global settings that :func:`pin_torch` changes, as they were before."""

    threads: int
    # (deterministic, warn_only) when pin_torch changed them; None: left alone, and left on restore
    # (another strategy of the same run may have set them meanwhile)
    algorithms: tuple[bool, bool] | None


def pin_torch(*, deterministic: bool = False) -> TorchSettings:
    """Run torch on one intra-op thread (and with deterministic algorithms when asked) from now on.

    Returns the settings replaced, for :func:`restore_torch`. With ``deterministic``
    False the algorithm setting is left as it is.
    """
    algorithms = (
        (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
        if deterministic
        else None
    )
    before = TorchSettings(torch.get_num_threads(), algorithms)
    torch.set_num_threads(1)
    if deterministic:
        torch.use_deterministic_algorithms(True)
    return before


def restore_torch(before: TorchSettings) -> None:
    """Put back the settings :func:`pin_torch` returned."""
    torch.set_num_threads(before.threads)
    if before.algorithms is not None:
        torch.use_deterministic_algorithms(before.algorithms[0], warn_only=before.algorithms[1])
