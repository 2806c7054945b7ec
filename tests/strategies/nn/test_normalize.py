"""Causal running normalization: defined before it is used."""

from __future__ import annotations

import numpy as np

from strategies.nn.normalize import RunningNorm


def test_matches_numpy_and_skips_nan():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(50, 3))
    rows[::7, 1] = np.nan
    norm = RunningNorm(3)
    for row in rows:
        norm.update(row)
    np.testing.assert_allclose(norm.mean, np.nanmean(rows, axis=0), rtol=1e-12)
    np.testing.assert_allclose(norm.std, np.nanstd(rows, axis=0, ddof=1), rtol=1e-12)


def test_columns_not_ready_transform_to_zero():
    norm = RunningNorm(2, min_count=3)
    norm.update(np.array([np.nan, 0.01]))
    norm.update(np.array([0.02, 0.03]))
    assert not norm.ready.any()
    assert np.array_equal(norm.transform(np.array([[0.5, 0.5]])), np.zeros((1, 2)))
    norm.update(np.array([0.01, 0.02]))
    assert norm.ready.tolist() == [False, True]
    out = norm.transform(np.array([[0.5, 0.5]]))
    assert out[0, 0] == 0.0 and abs(out[0, 1]) < 100
