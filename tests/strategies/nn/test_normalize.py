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


def _reference(count: np.ndarray, mean: np.ndarray, m2: np.ndarray, min_count: int, values: np.ndarray):
    """std, center and transform as written before the all-ready shortcut (selections kept)."""
    ready = count >= min_count
    std = np.maximum(np.sqrt(np.where(ready, m2 / np.maximum(count - 1.0, 1.0), 0.0)), 1e-6)
    center = np.where(ready, mean, 0.0)
    scaled = (values - center) / std
    return std, center, np.where(ready & ~np.isnan(scaled), scaled, 0.0)


def test_all_ready_shortcut_gives_the_same_bits():
    # once every column is ready the selections are skipped: every number must stay the same
    rng = np.random.default_rng(1)
    rows = rng.normal(scale=0.01, size=(40, 3))
    rows[:6, 2] = np.nan  # column 2 ready last
    rows[20, 0] = np.nan
    norm = RunningNorm(3, min_count=4)
    for i, row in enumerate(rows):
        norm.update(row)
        values = rows[max(0, i - 2) : i + 1]
        std, center, scaled = _reference(norm.count, norm.mean, norm.m2, 4, values)
        got = norm.transform(values)
        assert np.array_equal(norm.std, std) and np.array_equal(norm.center(), center)
        assert np.array_equal(got, scaled) and got.dtype == scaled.dtype
    assert norm.ready.all()
    fresh = RunningNorm(3, min_count=50)  # loaded counts below min_count: not ready again
    fresh.load_state_dict({"count": np.full(3, 2.0), "mean": np.zeros(3), "m2": np.ones(3)})
    assert not fresh.ready.any() and np.array_equal(fresh.transform(np.ones((1, 3))), np.zeros((1, 3)))
