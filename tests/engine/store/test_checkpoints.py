"""Checkpoints hold tensors and plain data only; nothing read from a run folder can execute code."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.store import checkpoints
from feeds.errors import InputError
from tests.conftest import random_walk_market, write_yahoo_csv

PLUGIN = '''
from pathlib import Path

import numpy as np

from strategies import History, OnlineStrategy

Path({marker!r}).write_text("imported")  # proves whether this file was imported


class Counting(OnlineStrategy):
    """Long when the running sum of past deltas is positive; its state has arrays and numbers."""

    name = "counting"

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        self.total = np.zeros(len(history.tickers))
        self.days = 0

    def learn(self, history: History) -> None:
        self.total += np.nan_to_num(history.deltas[-1])
        self.days += 1

    def decide(self, history: History) -> np.ndarray:
        return ((self.total > 0).astype(float) / len(history.tickers))[None, :]

    def state_dict(self) -> dict:
        return {{"total": self.total.copy(), "days": self.days, "note": ["a", 1.5, None]}}

    def load_state_dict(self, state: dict) -> None:
        self.total = np.array(state["total"], dtype=float)
        self.days = int(state["days"])
'''


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


class WritesAMarker:
    """A pickle payload: unpickling it calls open(marker, 'w'), i.e. runs code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


@pytest.fixture
def stored_run(tmp_path, capsys):
    """A run of a plugin with state (short data) and a longer CSV to update it with."""
    market = random_walk_market(n=300, seed=3)
    for name in ("short", "long", "shorter"):
        (tmp_path / name).mkdir()
    # one file name: the ticker comes from it, and an update needs the same data extended
    short = write_yahoo_csv(tmp_path / "short" / "AAA.csv", market.head(250))
    longer = write_yahoo_csv(tmp_path / "long" / "AAA.csv", market)
    write_yahoo_csv(tmp_path / "shorter" / "AAA.csv", market.head(200))
    plugin = tmp_path / "counting.py"
    plugin.write_text(PLUGIN.format(marker=str(tmp_path / "imported.txt")))
    code, out, err = cli(
        capsys, "run", "--data", f"csv:{short}", "--strategy", f"{plugin}:Counting", "--json"
    )
    assert code == 0, err
    (tmp_path / "imported.txt").unlink()
    return json.loads(out)["run_id"], plugin, longer


def test_plain_state_round_trips_with_arrays(tmp_path):
    state = {"w": torch.arange(3.0), "a": np.arange(4.0), "n": 3, "s": "x", "l": [1, None, {"k": 2.5}]}
    cp = checkpoints.Checkpoint("x", state, 3, "2020-01-03", "f" * 8, np.zeros((4, 1, 1)))
    checkpoints.save(tmp_path, [cp])
    back = checkpoints.load(tmp_path)["x"].state
    assert isinstance(back["a"], np.ndarray) and np.array_equal(back["a"], state["a"])
    assert torch.equal(back["w"], state["w"]) and back["n"] == 3 and back["l"] == [1, None, {"k": 2.5}]


def test_a_state_that_is_not_plain_data_is_not_checkpointed(tmp_path):
    cp = checkpoints.Checkpoint("x", {"obj": object()}, 3, "2020-01-03", "f" * 8, np.zeros((4, 1, 1)))
    with pytest.warns(UserWarning, match="obj"):
        checkpoints.save(tmp_path, [cp])
    assert checkpoints.load(tmp_path) == {}


def test_a_pickle_payload_in_a_checkpoint_is_refused_without_running_it(tmp_path, capsys, stored_run):
    run_id, plugin, longer = stored_run
    folder = tmp_path / "runs" / run_id / "checkpoint"
    marker = tmp_path / "payload-ran.txt"
    torch.save({"total": WritesAMarker(marker)}, folder / "0.pt")  # what an attacker ships
    # ... with a manifest whose file digests would not betray it (they are checked first)
    manifest_path = folder.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("files", None)
    manifest_path.write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{longer}", "--plugin", f"{plugin}:Counting")
    assert code == 2, err
    assert not marker.exists(), "the checkpoint's pickle payload ran"
    assert "0.pt" in err and "refused" in err
    with pytest.raises(InputError, match="refused"):
        checkpoints.load(tmp_path / "runs" / run_id)
    assert not marker.exists()


def test_update_does_not_import_a_plugin_file_named_only_by_the_manifest(tmp_path, capsys, stored_run):
    run_id, plugin, longer = stored_run
    marker = tmp_path / "imported.txt"
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{longer}")
    assert code == 2 and "--plugin" in err, err
    assert not marker.exists(), "update imported the plugin file named by the run folder"
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{longer}", "--plugin", f"{plugin}:Counting")
    assert code == 0, err
    assert "continued run" in err  # named again: allowed (the module was imported by the fixture's run)


def test_update_with_shorter_data_refuses(tmp_path, capsys, stored_run):
    run_id, plugin, _ = stored_run
    shorter = tmp_path / "shorter" / "AAA.csv"
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{shorter}", "--plugin", f"{plugin}:Counting")
    assert code == 2 and "before the run's last day" in " ".join(err.split()), err
