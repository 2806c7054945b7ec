"""A checkpoint's state against the model's (engine.store.checkpoint_state)."""

from __future__ import annotations

import torch

from engine.store import checkpoint_state


def test_compare_names_the_first_differing_key():
    fresh = {"w": torch.zeros(2, 3), "opt": {"m": torch.zeros(2, 3)}, "n": 1, "l": [torch.zeros(2)]}
    assert checkpoint_state.first_difference(fresh, fresh) is None
    bad = {**fresh, "opt": {"m": torch.zeros(2, 3, dtype=torch.float64)}}
    assert "state.opt.m" in checkpoint_state.first_difference(bad, fresh)
    assert "float64" in checkpoint_state.first_difference(bad, fresh)
    assert "state.l" in checkpoint_state.first_difference({**fresh, "l": []}, fresh)
    assert "state.n" in checkpoint_state.first_difference({**fresh, "n": "x"}, fresh)
    assert "bogus" in checkpoint_state.first_difference({**fresh, "bogus": 1}, fresh)


def test_describe_says_kind_shape_and_dtype():
    assert checkpoint_state.describe(torch.zeros(2, 3)) == "tensor (2, 3) float32"
    assert checkpoint_state.describe([1, 2]) == "a list of 2"
    assert checkpoint_state.describe(None) == "None"
