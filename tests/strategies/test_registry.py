"""The strategy registry: entry points, ``module:Class`` and ``file.py:Class``, suggestions."""

from __future__ import annotations

import textwrap

import pytest

from feeds.errors import InputError
from strategies.registry import entries, resolve


def test_builtins_are_registered_through_entry_points():
    registered = entries()
    for name in ("buy-and-hold", "ma-trend", "momentum-annual"):
        assert len(registered[name]) == 1
        assert registered[name][0].source == "stock-rnn"
    assert resolve("ma-trend").name == "ma-trend"


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
