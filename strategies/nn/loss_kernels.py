"""The losses' derivatives for numba kernels: one float32 error in, d loss / d e out (no torch).

The formulas are :data:`strategies.nn.losses.LOSSES`' (see that module's table);
they are written twice because the compiled LSTM day step runs without torch
(importing it costs about a second of every run), and
``tests/strategies/nn/test_losses.py`` checks that the two agree to float32
rounding for every loss. :func:`derivative_f32` is compiled when first looked up
(``from strategies.nn.loss_kernels import derivative_f32``, as the LSTM kernels
do), not when this module is imported.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Any

import numpy as np

EXP_LIMIT = 20.0  # |e| beyond which the exponential losses continue linearly (target-std units)


class LossKind(IntEnum):
    """The losses of :data:`LOSSES` as numba kernels select them (``LossKind[name.upper()]``)."""

    MSE = 0
    SMOOTH_L1 = 1
    EXP_OR_LOG = 2
    SMOOTH_L1_OR_L2 = 3
    LINEX = 4
    HUBER = 5


_F0, _F1, _F2 = np.float32(0.0), np.float32(1.0), np.float32(2.0)
_FLIM = np.float32(EXP_LIMIT)


def _derivative_f32(e: np.float32, kind: int) -> np.float32:
    """d loss / d e of :data:`strategies.nn.losses.LOSSES`' ``kind`` (a :class:`LossKind`, as an
    int) for one float32 error, in float32 (numba kernels)."""
    if kind == LossKind.MSE:
        return _F2 * e
    if kind == LossKind.SMOOTH_L1:
        if abs(e) > _F1:
            return _F1 if e > _F0 else -_F1
        return _F2 * e
    if kind == LossKind.EXP_OR_LOG:
        if e > _F0:
            return _F1 / (_F1 + e)
        return -np.float32(math.exp(-max(e, -_FLIM)))
    if kind == LossKind.SMOOTH_L1_OR_L2:
        return _F1 if e > _F1 else _F2 * e
    if kind == LossKind.LINEX:
        return -np.float32(math.exp(-max(e, -_FLIM))) + _F1
    return min(max(e, -_F1), _F1)  # HUBER


def __getattr__(name: str) -> Any:
    """``derivative_f32``: :func:`_derivative_f32` compiled by numba, made on first lookup (then
    a plain module attribute: later lookups do not come here)."""
    if name != "derivative_f32":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from strategies.nn.compiled import jit

    compiled = globals()["derivative_f32"] = jit(_derivative_f32)
    return compiled
