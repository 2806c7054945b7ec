"""Strategy parameters: validated and coerced, "did you mean", ``name=value`` assignments."""

from __future__ import annotations

import pytest

from feeds.errors import InputError
from strategies.baselines import MovingAverageTrend
from strategies.params import parse_assignments


def test_params_validate_and_suggest():
    assert MovingAverageTrend({"window": "50"}).params.window == 50  # CLI text is coerced
    with pytest.raises(InputError, match="unknown parameter 'windw'; did you mean 'window'"):
        MovingAverageTrend({"windw": 5})
    with pytest.raises(InputError, match="parameter 'window': Input should be greater than or equal to 2"):
        MovingAverageTrend({"window": 1})


def test_parse_assignments():
    assert parse_assignments(["window=5", "ma-trend.short=true"]) == [
        (None, "window", "5"),
        ("ma-trend", "short", "true"),
    ]
    with pytest.raises(InputError):
        parse_assignments(["window"])
