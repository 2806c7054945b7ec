"""A checkpoint's state compared with the model it is loaded into, before it is used.

``backtest update`` loads each checkpoint (engine.store.checkpoints, which bounds and
reads the files) and then asks :func:`first_difference` whether the state has the
structure of a freshly begun strategy of the run's config: the same keys, lengths,
kinds of values, and every tensor's and array's shape and dtype. A wrong tensor thus
becomes one line naming the key, not a shape error deep inside the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """A value's kind in a few words: ``tensor (2, 4416) float32``, ``array (3,) float64``, ``int``."""
    if isinstance(value, np.ndarray):
        return f"array {tuple(value.shape)} {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "numel"):
        return f"tensor {tuple(value.shape)} {str(value.dtype).removeprefix('torch.')}"
    if isinstance(value, dict):
        return "a dict"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)}"
    return "None" if value is None else type(value).__name__


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"  # a float state saved as 1 is still a number
    if isinstance(value, np.ndarray):
        return "array"
    if hasattr(value, "shape") and hasattr(value, "numel"):
        return "tensor"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list | tuple):
        return "sequence"
    return type(value).__name__


def first_difference(loaded: Any, expected: Any, where: str = "state", *, strict: bool = True) -> str | None:
    """The first place where ``loaded`` does not have the structure of ``expected``, or None.

    Compared: the keys of every dict, the lengths of lists and tuples, the kinds of
    values (tensor, numpy array, number, bool, str, None), and every tensor's and array's
    shape and dtype. ``strict=False`` compares with a freshly begun strategy's state,
    which may not yet hold everything a trained one does: where ``expected`` is None
    anything goes, dict keys only one side has are skipped, and a list's elements are
    compared with the expected list's (its last one past its end; none when it is empty).
    """
    if expected is None and not strict:
        return None
    kind, want = _kind(loaded), _kind(expected)
    mismatch = f"{where} is {describe(loaded)} in the checkpoint, the model's is {describe(expected)}"
    if kind != want:
        return mismatch
    if kind in ("tensor", "array"):
        return (
            None
            if (tuple(loaded.shape), loaded.dtype) == (tuple(expected.shape), expected.dtype)
            else mismatch
        )
    if kind == "dict":
        if strict:
            extra = [k for k in loaded if k not in expected]
            missing = [k for k in expected if k not in loaded]
            if missing:
                has = describe(expected[missing[0]])
                return f"{where}.{missing[0]} is missing from the checkpoint (the model has {has})"
            if extra:
                held = describe(loaded[extra[0]])
                return f"{where}.{extra[0]} is in the checkpoint ({held}) but not in the model"
        for key in loaded:
            if key in expected:
                found = first_difference(loaded[key], expected[key], f"{where}.{key}", strict=strict)
                if found:
                    return found
        return None
    if kind == "sequence":
        if strict and len(loaded) != len(expected):
            return mismatch
        for i, item in enumerate(loaded):
            if i >= len(expected) and not expected:
                break
            found = first_difference(
                item, expected[min(i, len(expected) - 1)], f"{where}[{i}]", strict=strict
            )
            if found:
                return found
    return None
