from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from feeds.deltas import daily_deltas


def test_simple_returns_with_gaps_and_late_start():
    close = np.array(
        [
            [100.0, np.nan],
            [110.0, np.nan],
            [np.nan, 50.0],
            [99.0, 55.0],
        ]
    )
    got = daily_deltas(close)
    expected = np.array(
        [
            [np.nan, np.nan],
            [0.10, np.nan],
            [np.nan, np.nan],
            [99.0 / 110.0 - 1, 0.10],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15, equal_nan=True)


@given(st.lists(st.floats(0.5, 2.0), min_size=2, max_size=40))
def test_deltas_compound_back_to_prices(factors):
    close = np.cumprod(np.array(factors))[:, None] * 10
    deltas = daily_deltas(close)
    rebuilt = close[0, 0] * np.prod(1 + deltas[1:, 0])
    assert np.isclose(rebuilt, close[-1, 0], rtol=1e-12)
