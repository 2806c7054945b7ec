from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline.timing import first_decision, is_decision_row, orders_for_period

NAN = np.nan


def test_first_decision_waits_for_every_member():
    targets = np.array([[[NAN], [NAN]], [[1.0], [NAN]], [[NAN], [0.0]], [[NAN], [NAN]]])
    assert is_decision_row(targets).tolist() == [[False, False], [True, False], [False, True], [False, False]]
    assert first_decision(targets) == 2


def test_orders_start_with_targets_in_force():
    targets = np.array([[[0.5]], [[NAN]], [[NAN]], [[1.0]], [[NAN]]])
    orders = orders_for_period(targets, start=2)
    np.testing.assert_array_equal(orders[:, 0, 0], [0.5, 1.0, NAN])
    lagged = orders_for_period(targets, start=2, lag=1)
    np.testing.assert_array_equal(lagged[:, 0, 0], [NAN, 0.5, 1.0])


def test_no_decision_before_start_is_an_error():
    with pytest.raises(ValueError):
        orders_for_period(np.full((3, 1, 1), NAN), start=1)
