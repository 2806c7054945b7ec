"""Top-k stock picking: the ``k`` best-scored stocks and their weights.

Shared by ``momentum-annual`` (scored by trailing return) and the annual learned
pickers (scored by predicted delta), so ``top_k`` and ``weighting`` mean one thing.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Weighting = Literal["equal", "score"]


def top_k_weights(scores: np.ndarray, k: int, weighting: Weighting) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest of ``scores`` (n,) and their weights: (positions (m,), weights (m,)), m = min(k, n).

    ``positions`` index ``scores``, highest score first; ties keep the earlier
    position first (stable sort), so the picks are deterministic. Weights are
    fractions of portfolio value summing to 1: ``1/m`` each (``equal``), or with
    ``score`` and some picked score above 0, proportional to the picked scores'
    positive parts (a pick scored at or below 0 then gets 0); equal when no picked
    score is positive. Scores must not be NaN (callers pass eligible stocks only).
    """
    order = np.argsort(-scores, kind="stable")[:k]
    if not order.size:
        return order, np.zeros(0)
    picked = scores[order]
    if weighting == "score" and np.any(picked > 0):
        positive = np.clip(picked, 0.0, None)
        return order, positive / positive.sum()
    return order, np.full(order.size, 1.0 / order.size)
