"""Checkpoints hold arrays, tensors and plain data only; nothing read from a run folder can execute code."""

from __future__ import annotations

import builtins
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.store import checkpoints
from engine.store.state_file import FORMAT_NAME, read_state, write_state
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


# --- A checkpoint is checked against the model it is loaded into before anything uses it (issue 23).
#
# Every tensor's and array's shape and dtype, the keys, the targets' shape, the sizes that the files
# declare (bounded before anything is allocated) and the version that wrote them: a checkpoint that
# does not fit is refused with one line naming the file (exit 2), and no new run is stored.


def _update(capsys, tmp_path, run_id, plugin, longer):
    return cli(capsys, "update", run_id, "--data", f"csv:{longer}", "--plugin", f"{plugin}:Counting")


def _runs(tmp_path) -> set[str]:
    return {p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")}


def _forget_digests(run_folder) -> None:
    """Drop the file digests the manifest records, as one who also edits the manifest would:
    the reader checks them first (engine.store.run_reader), and these tests are about what comes after."""
    path = run_folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("files", None)
    path.write_text(json.dumps(manifest))


def _refused(capsys, tmp_path, stored, *needles: str) -> str:
    """Update the damaged run: exit 2, one error line naming what, no traceback, no new run."""
    run_id, plugin, longer = stored
    _forget_digests(tmp_path / "runs" / run_id)
    before = _runs(tmp_path)
    code, _, err = _update(capsys, tmp_path, run_id, plugin, longer)
    assert code == 2, err
    assert "Traceback" not in err and err.count("error:") == 1, err
    line = " ".join(err.split("error:", 1)[1].split())
    for needle in needles:
        assert needle in line, line
    assert _runs(tmp_path) == before, "a new run was stored from a checkpoint that does not fit"
    return line


def _state(tmp_path, run_id):
    folder = tmp_path / "runs" / run_id / "checkpoint"
    return folder, read_state(folder / "0.pt", checkpoints.MAX_BYTES)


def _save(folder, state) -> None:
    with (folder / "0.pt").open("wb") as fh:
        write_state(fh, state)


def test_an_intact_checkpoint_still_continues(tmp_path, capsys, stored_run):
    run_id, plugin, longer = stored_run
    code, _, err = _update(capsys, tmp_path, run_id, plugin, longer)
    assert code == 0 and "continued run" in err, err


def test_a_tensor_of_the_wrong_shape_is_refused_naming_the_key(tmp_path, capsys, stored_run):
    folder, state = _state(tmp_path, stored_run[0])
    state["total"] = np.zeros(5)
    _save(folder, state)
    line = _refused(capsys, tmp_path, stored_run, "0.pt", "total", "(5,)", "(1,)")
    assert "float64" in line


def test_a_tensor_of_the_wrong_dtype_is_refused(tmp_path, capsys, stored_run):
    folder, state = _state(tmp_path, stored_run[0])
    state["total"] = np.zeros(1, dtype=np.int32)
    _save(folder, state)
    _refused(capsys, tmp_path, stored_run, "0.pt", "total", "int32", "float64")


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_a_missing_or_extra_key_is_refused(tmp_path, capsys, stored_run, change):
    folder, state = _state(tmp_path, stored_run[0])
    if change == "missing":
        del state["days"]
    else:
        state["bogus"] = torch.zeros(3)
    _save(folder, state)
    _refused(capsys, tmp_path, stored_run, "0.pt", "days" if change == "missing" else "bogus")


def test_targets_of_the_wrong_shape_are_refused(tmp_path, capsys, stored_run):
    folder = tmp_path / "runs" / stored_run[0] / "checkpoint"
    np.save(folder / "0.targets.npy", np.zeros((250, 1, 3)))
    _refused(capsys, tmp_path, stored_run, "0.targets.npy", "(250, 1, 3)", "(250, 1, 1)")


def _huge_npy(path, shape=(2**40, 1, 1)) -> None:
    """An .npy whose header declares ``shape`` of float64 (8 TiB by default) over a few bytes of data."""
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": shape})
        f.write(b"\0" * 64)


def test_a_huge_npy_header_is_refused_before_anything_is_allocated(tmp_path, capsys, stored_run):
    folder = tmp_path / "runs" / stored_run[0] / "checkpoint"
    _huge_npy(folder / "0.targets.npy")
    _refused(capsys, tmp_path, stored_run, "0.targets.npy", "bytes")
    with pytest.raises(InputError, match="declares"):
        checkpoints.load(tmp_path / "runs" / stored_run[0])


def _npy_header(shape, descr="<f8") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize(
    "member,needle",
    [
        (_npy_header((4 * 2**30,)) + b"\0" * 8, "declares"),  # 32 GiB declared over 8 bytes
        (_npy_header((1,), "|O") + b"\0" * 8, "dtype"),  # an object array would need pickle
        (b"not an npy file at all", "total"),
    ],
)
def test_an_array_that_declares_what_it_does_not_hold_is_refused(
    tmp_path, capsys, stored_run, member, needle
):
    folder, state = _state(tmp_path, stored_run[0])
    state["total"] = np.zeros(1)
    _save(folder, state)
    with zipfile.ZipFile(folder / "0.pt") as archive:  # the array of "total" swapped for a forged one
        members = {name: archive.read(name) for name in archive.namelist()}
    index = next(
        pair[1]["array"] for pair in json.loads(members["state.json"])["state"]["dict"] if pair[0] == "total"
    )
    members[f"arrays/{index}.npy"] = member
    with zipfile.ZipFile(folder / "0.pt", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    assert (folder / "0.pt").stat().st_size < 100_000
    _refused(capsys, tmp_path, stored_run, "0.pt", "total", needle)
    with pytest.raises(InputError, match="total"):
        checkpoints.load(tmp_path / "runs" / stored_run[0])


@pytest.mark.parametrize("forgery", ["compressed", "unknown tag", "no format", "array twice", "bad checksum"])
def test_a_state_file_this_program_did_not_write_is_refused(tmp_path, capsys, stored_run, forgery):
    folder, state = _state(tmp_path, stored_run[0])
    _save(folder, state)
    with zipfile.ZipFile(folder / "0.pt") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    doc = json.loads(members["state.json"])
    if forgery == "unknown tag":
        doc["state"] = {"pickle": "cos\nsystem\n"}
    elif forgery == "no format":
        del doc["format"]
    elif forgery == "array twice":  # one small array named many times would be read as many copies
        doc["state"]["dict"].append(["copies", {"list": [{"array": 0}] * 1000}])
    members["state.json"] = json.dumps(doc).encode()
    method = zipfile.ZIP_DEFLATED if forgery == "compressed" else zipfile.ZIP_STORED
    with zipfile.ZipFile(folder / "0.pt", "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    if forgery == "bad checksum":  # one byte of the array flipped: the archive's CRC no longer agrees
        raw = bytearray((folder / "0.pt").read_bytes())
        raw[raw.rindex(b"\x93NUMPY") + 130] ^= 0xFF
        (folder / "0.pt").write_bytes(bytes(raw))
    _refused(capsys, tmp_path, stored_run, "0.pt", "refused")


def test_state_files_keep_every_kind_of_value(tmp_path):
    state = {
        "f64": np.arange(3.0),
        "scalar": np.array(2.5, dtype=np.float32),  # 0-d stays 0-d
        "bools": np.array([True, False]),
        "bf16": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        "t": torch.arange(6, dtype=torch.int64).reshape(2, 3),
        7: (1, "a", None, float("nan"), float("inf")),
        True: {False: -0.0},
        "nested": [{"k": [np.zeros((0, 2))]}],
    }
    path = tmp_path / "s.pt"
    with path.open("wb") as fh:
        write_state(fh, state)
    back = read_state(path, 2**20)
    assert list(back) == list(state) and back[7][:3] == (1, "a", None) and np.isnan(back[7][3])
    assert back["scalar"].shape == () and back["scalar"].dtype == np.float32
    assert back[True] == {False: -0.0} and str(back[True][False]) == "-0.0"
    assert back["bools"].dtype == np.bool_ and back["nested"][0]["k"][0].shape == (0, 2)
    assert torch.equal(back["bf16"], state["bf16"]) and torch.equal(back["t"], state["t"])
    assert json.loads(zipfile.ZipFile(path).read("state.json"))["format"] == FORMAT_NAME


@pytest.mark.parametrize("written_by", ["0.0.1", None])
def test_a_checkpoint_of_another_version_is_refused_naming_both(tmp_path, capsys, stored_run, written_by):
    meta_path = tmp_path / "runs" / stored_run[0] / "checkpoint" / "0.json"
    meta = json.loads(meta_path.read_text())
    ours = meta["stock_rnn_version"]
    if written_by is None:  # a checkpoint from before versions were recorded
        del meta["stock_rnn_version"], meta["format"]
    else:
        meta["stock_rnn_version"] = written_by
    meta_path.write_text(json.dumps(meta))
    theirs = written_by or "an older version"
    line = _refused(capsys, tmp_path, stored_run, "0.json", theirs, ours, "backtest rerun")
    assert "KeyError" not in line


def test_save_records_the_version_and_the_format(tmp_path):
    cp = checkpoints.Checkpoint("x", {"a": np.zeros(2)}, 3, "2020-01-03", "f" * 8, np.zeros((4, 1, 1)))
    checkpoints.save(tmp_path, [cp])
    meta = json.loads((tmp_path / "checkpoint" / "0.json").read_text())
    assert meta["format"] == checkpoints.FORMAT and meta["stock_rnn_version"]


@pytest.mark.slow
@pytest.mark.parametrize("key", ["params", "pending"])
def test_an_lstm_checkpoint_that_does_not_fit_its_model_is_refused(tmp_path, capsys, key):
    from tests.conftest import random_walk_market, write_yahoo_csv

    market = random_walk_market(n=300, seed=3)
    for name in ("short", "long"):
        (tmp_path / name).mkdir()
    short = write_yahoo_csv(tmp_path / "short" / "AAA.csv", market.head(250))
    longer = write_yahoo_csv(tmp_path / "long" / "AAA.csv", market)
    lstm = ["--strategy", "lstm-stateful", "--seed-list", "0,1", "--param", "hidden=4"]
    code, out, err = cli(
        capsys, "run", "--data", f"csv:{short}", *lstm, "--param", "warmup_years=0.5", "--json"
    )
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    folder, state = _state(tmp_path, run_id)
    if key == "params":  # the example: a model of another size
        state["params"] = np.zeros((state["params"].shape[0], 17024), np.float32)
    else:  # a step kept for backpropagation, of the wrong width (the fresh state keeps none)
        state["pending"][0]["top"] = np.zeros((*state["pending"][0]["top"].shape[:2], 1), np.float32)
    _save(folder, state)
    _forget_digests(folder.parent)
    before = _runs(tmp_path)
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{longer}")
    assert code == 2 and err.count("error:") == 1 and "Traceback" not in err, err
    assert f"state.{key}" in " ".join(err.split()) and "0.pt" in err, err
    assert _runs(tmp_path) == before
