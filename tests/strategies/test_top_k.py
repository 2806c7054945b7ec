"""Top-k picking shared by momentum-annual and the annual learned pickers."""

from __future__ import annotations

import numpy as np

from strategies.top_k import top_k_weights


def test_equal_weights_on_the_highest_scores_ties_in_position_order():
    positions, weights = top_k_weights(np.array([0.1, 0.5, 0.3, 0.5, -0.2]), 3, "equal")
    assert positions.tolist() == [1, 3, 2]  # the tie 0.5/0.5 keeps position order
    assert weights.tolist() == [1 / 3] * 3


def test_score_weights_are_the_positive_parts_and_fall_back_to_equal():
    positions, weights = top_k_weights(np.array([0.2, -0.1, 0.6, 0.0]), 3, "score")
    assert positions.tolist() == [2, 0, 3]
    np.testing.assert_array_equal(weights, np.array([0.6, 0.2, 0.0]) / 0.8)
    _, weights = top_k_weights(np.array([-0.3, -0.1, -0.2]), 2, "score")  # nothing positive
    assert weights.tolist() == [0.5, 0.5]


def test_fewer_scores_than_k_and_none_at_all():
    positions, weights = top_k_weights(np.array([0.4, 0.9]), 5, "equal")
    assert positions.tolist() == [1, 0] and weights.sum() == 1.0
    positions, weights = top_k_weights(np.zeros(0), 5, "score")
    assert positions.size == 0 and weights.size == 0
