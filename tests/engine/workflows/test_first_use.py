"""Plugins are audited on first use, cached by their identity; built-ins are not; --no-audit skips."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.workflows.first_use import plugin_key
from strategies.baselines import MovingAverageTrend
from strategies.registry import resolve
from tests.conftest import random_walk_market, write_yahoo_csv


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_keys_builtins_none_files_by_hash():
    assert plugin_key(MovingAverageTrend) is None
    key = plugin_key(resolve("tests/fixtures/leaky.py:HonestOnline"))
    assert key is not None and key.startswith("file sha256 ") and key.endswith(":HonestOnline")


def test_a_leaking_plugin_is_stopped_on_first_use_and_the_result_is_cached(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("STOCKRNN_NO_AUDIT")
    csv = write_yahoo_csv(tmp_path / "T.csv", random_walk_market(n=200, seed=2))
    args = ["run", "--data", f"csv:{csv}", "--strategy", "tests/fixtures/leaky.py:PeekTomorrow"]
    code, _, err = cli(capsys, *args)
    assert code == 1 and "first-use look-ahead audit" in err and "LOOK-AHEAD" in err
    stored = list((tmp_path / "cache" / "audits").glob("*.json"))
    assert len(stored) == 1 and json.loads(stored[0].read_text())["passed"] is False
    code, _, err = cli(capsys, *args)  # cached: same verdict, no new audit
    assert code == 1 and "LOOK-AHEAD" in err
    code, out, err = cli(capsys, *args, "--no-audit")
    assert code == 0, err
    assert "WARNING implausible" in out  # the flag of every run sees it too
