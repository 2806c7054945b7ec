from __future__ import annotations

import textwrap

import pytest

from feeds.errors import InputError
from strategies.baselines import MovingAverageTrend
from strategies.params import parse_assignments
from strategies.registry import entries, resolve


def test_builtins_are_registered_through_entry_points():
    registered = entries()
    for name in ("buy-and-hold", "ma-trend", "momentum-annual"):
        assert len(registered[name]) == 1
        assert registered[name][0].source == "stock-rnn"
    assert resolve("ma-trend").name == "ma-trend"


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


def test_resolve_module_and_file_paths(tmp_path):
    assert resolve("strategies.baselines:BuyAndHold").label() == "buy-and-hold"
    plugin = tmp_path / "mine.py"
    plugin.write_text(
        textwrap.dedent("""
        import numpy as np
        from strategies import RuleStrategy

        class AlwaysIn(RuleStrategy):
            def target_weights(self, history, seeds):
                return np.ones(history.close.shape)

        class NotAStrategy:
            pass

        class FromTheFuture(RuleStrategy):
            api_version = 99
            def target_weights(self, history, seeds):
                return np.ones(history.close.shape)
    """)
    )
    assert resolve(f"{plugin}:AlwaysIn").label() == "AlwaysIn"
    with pytest.raises(InputError, match="is not a subclass of RuleStrategy"):
        resolve(f"{plugin}:NotAStrategy")
    with pytest.raises(InputError, match="plugin API version 99, this engine speaks version 1"):
        resolve(f"{plugin}:FromTheFuture")
    with pytest.raises(InputError, match="cannot load"):
        resolve(f"{plugin}:Missing")


def test_unknown_name_suggests_the_closest():
    with pytest.raises(InputError, match="did you mean 'buy-and-hold'"):
        resolve("buy-and-hld")
