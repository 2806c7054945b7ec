"""Replayable runs: config files, `show --config`, `rerun`, and the models' "did you mean" errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.config.files import dump_run_config, load_run_config
from engine.config.run_config import RunConfig, validate
from engine.config.sweep_spec import SweepSpec
from engine.store.run_store import RunStore
from feeds.errors import InputError
from tests.conftest import random_walk_market, write_yahoo_csv


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture
def csv_file(tmp_path):
    return write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=400, tickers=("IDX",), seed=3))


def seed_cagrs(payload: dict) -> list[list[float]]:
    return [[s["cagr"] for s in entry.get("seeds", [entry])] for entry in payload["strategies"]]


def test_show_config_round_trip_reruns_the_run_identically(capsys, tmp_path, csv_file):
    code, out, err = cli(
        capsys, "run", "--data", f"csv:{csv_file}", "--strategy", "ma-trend", "--strategy",
        "tests/fixtures/leaky.py:HonestOnline", "--param", "ma-trend.window=30", "--seed-list", "1,4",
        "--cost-bps", "7", "--start", "2015-02-01", "--json",
    )  # fmt: skip
    assert code == 0, err
    first = json.loads(out)
    code, text, _ = cli(capsys, "show", first["run_id"], "--config")
    assert code == 0 and text.startswith("# run ")
    path = tmp_path / "run.toml"
    path.write_text(text)
    assert load_run_config(path) == RunConfig.model_validate(first["config"])
    code, out, err = cli(capsys, "run", "--config", str(path), "--json")
    assert code == 2 and "add --plugin tests/fixtures/leaky.py:HonestOnline" in " ".join(err.split())
    plugin = ("--plugin", "tests/fixtures/leaky.py:HonestOnline")  # the file names code: named again
    code, out, err = cli(capsys, "run", "--config", str(path), *plugin, "--json")
    assert code == 0, err
    second = json.loads(out)
    assert seed_cagrs(second) == seed_cagrs(first) and second["config"] == first["config"]
    # options given with --config override the file's values
    code, out, _ = cli(capsys, "run", "--config", str(path), *plugin, "--seed-list", "2", "--json")
    assert code == 0 and json.loads(out)["config"]["seeds"] == [2]
    code, out, _ = cli(
        capsys, "run", "--config", str(path), *plugin, "--param", "ma-trend.window=40", "--json"
    )
    assert json.loads(out)["strategies"][0]["params"]["window"] == 40


def test_config_file_yaml_and_unknown_keys_with_a_suggestion(capsys, tmp_path, csv_file):
    path = tmp_path / "run.yaml"
    path.write_text(f"data: csv:{csv_file}\nseed: [0]\nstrategies:\n  - name: ma-trend\n")
    code, _, err = cli(capsys, "run", "--config", str(path))
    assert code == 2
    assert "unknown key 'seed'" in err and "did you mean 'seeds'" in err and str(path) in err
    path.write_text(f"data: csv:{csv_file}\nstrategies:\n  - name: ma-trend\n    param: {{window: 20}}\n")
    code, _, err = cli(capsys, "run", "--config", str(path))
    assert code == 2 and "strategies[0].param" in err and "did you mean 'params'" in err
    path.write_text(f"data: csv:{csv_file}\nstrategies:\n  - name: ma-trend\n    params: {{windw: 20}}\n")
    code, _, err = cli(capsys, "run", "--config", str(path))
    assert code == 2 and "did you mean 'window'" in err
    toml = tmp_path / "bad.toml"
    toml.write_text("data = \n")
    code, _, err = cli(capsys, "run", "--config", str(toml))
    assert code == 2 and "cannot parse" in err and str(toml) in err


def test_dump_leaves_out_nulls_and_reads_back():
    config = RunConfig(
        strategies=({"name": "ma-trend", "params": {"window": 5}},), seeds=(0,), end="2020-01-01"
    )
    text = dump_run_config(config.model_dump(mode="json"), ["a comment"])
    assert text.startswith("# a comment\n") and "headline_model" not in text and "frequency" not in text
    import tomllib

    assert RunConfig.model_validate(tomllib.loads(text)) == config


def test_rerun_is_identical_and_refused_when_the_data_changed(capsys, tmp_path, csv_file):
    code, out, _ = cli(
        capsys, "run", "--data", f"csv:{csv_file}", "--strategy", "tests/fixtures/leaky.py:HonestOnline",
        "--seed-list", "0,1", "--json",
    )  # fmt: skip
    first = json.loads(out)
    named = ("--plugin", "tests/fixtures/leaky.py:HonestOnline")  # the run names code: named again
    code, out, err = cli(capsys, "rerun", first["run_id"], *named, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["rerun"]["identical"] and again["rerun"]["compared"] and "identical to run" in err
    assert seed_cagrs(again) == seed_cagrs(first) and again["run_id"] != first["run_id"]
    manifest = RunStore(Path(tmp_path / "runs")).find(again["run_id"]).manifest
    assert manifest["rerun_of"] == first["run_id"]
    # the data change: refused, naming the way out; with --data it runs without comparing
    lines = csv_file.read_text().splitlines()
    csv_file.write_text("\n".join(lines[:-20]) + "\n")
    code, _, err = cli(capsys, "rerun", first["run_id"], *named)
    assert code == 2 and "differ from the run's" in err and "--data" in err
    code, out, err = cli(capsys, "rerun", first["run_id"], *named, "--data", f"csv:{csv_file}", "--json")
    assert code == 0 and json.loads(out)["rerun"]["compared"] is False


def test_manifest_records_where_each_strategy_comes_from(capsys, tmp_path, csv_file):
    _, out, _ = cli(
        capsys, "run", "--data", f"csv:{csv_file}", "--strategy", "ma-trend", "--strategy",
        "tests/fixtures/leaky.py:HonestOnline", "--seed-list", "0", "--json",
    )  # fmt: skip
    manifest = RunStore(Path(tmp_path / "runs")).find(json.loads(out)["run_id"]).manifest
    builtin, loose = manifest["plugins"]["ma-trend"], manifest["plugins"]["honest-online"]
    assert builtin["distribution"] == "stock-rnn" and builtin["version"] and len(builtin["sha256"]) == 64
    assert "distribution" not in loose and loose["file"].endswith("leaky.py") and len(loose["sha256"]) == 64


def test_sweep_spec_model_names_unknown_keys():
    good = {"name": "s", "strategies": [{"name": "ma-trend", "params": {"window": 5}}], "max_leverage": 2}
    assert validate(SweepSpec, good, "spec").max_leverage == 2
    with pytest.raises(InputError, match=r"strategies\[0\]\.param'; did you mean 'params'"):
        validate(SweepSpec, {"name": "s", "strategies": [{"name": "ma-trend", "param": {}}]}, "spec")
    with pytest.raises(InputError, match="unknown key 'cost_bp'; did you mean 'cost_bps'"):
        validate(SweepSpec, {**good, "cost_bp": 3}, "spec")


def test_a_yaml_syntax_error_is_one_line_with_its_line_and_column(tmp_path):
    from engine.config.files import read_mapping
    from feeds.errors import InputError

    path = tmp_path / "bad.yaml"
    path.write_text("strategies:\n  - name: ma-trend\n    params: {window: 3\n")
    with pytest.raises(InputError, match=r"bad\.yaml: cannot parse: line \d+, column \d+") as info:
        read_mapping(path, "config file")
    assert "\n" not in str(info.value)
