"""From predicted next-day deltas to target weights.

``predicted`` has shape (n_members, n_tickers): the delta each member expects
for (t, t+1], in delta units (0.01 = +1%); ``scale`` has the running std of each
ticker's deltas (to express confidence in standard deviations). Capital is split
equally across tickers (1/k each).

- ``long_flat`` (default): long when the prediction exceeds ``threshold``, else flat;
- ``long_short``: long above the threshold, short below it;
- ``confidence``: long, sized by the prediction in standard deviations, clipped to
  [0, 1] (a 1-sigma expected gain or more = fully invested); flat at or below 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

SIGNALS = ("long_flat", "long_short", "confidence")
Signal = Literal["long_flat", "long_short", "confidence"]


def probabilities_to_weights(probability: np.ndarray, signal: Signal, threshold: float = 0.0) -> np.ndarray:
    """Target weights (n_members, n_tickers) from predicted probabilities that the next delta is > 0.

    The direction target's signal: ``long_flat`` long when p > 0.5 + threshold;
    ``long_short`` short below it; ``confidence`` sized 2 (p - 0.5 - threshold),
    clipped to [0, 1] (fully invested at p = 1).
    """
    edge = np.asarray(probability, dtype=np.float64) - 0.5
    return predictions_to_weights(edge, np.full(edge.shape[-1], 0.5), signal, threshold)


def predictions_to_weights(
    predicted: np.ndarray, scale: np.ndarray, signal: Signal, threshold: float = 0.0
) -> np.ndarray:
    """Target weights (n_members, n_tickers) from predicted deltas; see the module docstring."""
    k = predicted.shape[-1]
    if signal == "long_flat":
        weights = (predicted > threshold).astype(np.float64)
    elif signal == "long_short":
        weights = np.where(predicted > threshold, 1.0, -1.0)
    elif signal == "confidence":
        weights = np.clip((predicted - threshold) / scale, 0.0, 1.0)
    else:
        raise ValueError(f"unknown signal {signal!r}; choose from {', '.join(SIGNALS)}")
    return weights / k
