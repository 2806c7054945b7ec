"""Nothing on disk names code that runs, or a model that loads, unless this command names it again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.config.run_config import RunConfig
from engine.config.sweep_spec import SweepSpec
from engine.config.trust import check_config, check_spec
from engine.store.run_store import RunStore
from feeds.errors import InputError
from tests.conftest import random_walk_market, write_yahoo_csv

PLUGIN = '''
from pathlib import Path

import numpy as np

from strategies import History, RuleStrategy

Path({marker!r}).write_text("imported")  # proves whether this file was imported


class Mine(RuleStrategy):
    """Always fully invested."""

    name = "mine"

    def target_weights(self, history: History, seeds: tuple[int, ...]) -> np.ndarray:
        n_days, n_tickers = history.n_days, len(history.tickers)
        return np.full((n_days, n_tickers), 1.0 / n_tickers)
'''


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def forget_plugins() -> None:
    """Drop imported plugin files, so that resolving one again would run it (and write the marker)."""
    for name in [n for n in sys.modules if n.startswith("stockrnn_plugin_")]:
        del sys.modules[name]


@pytest.fixture
def planted(tmp_path):
    """A plugin file that writes a marker when imported, and data to run it on."""
    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=300, tickers=("IDX",), seed=2))
    marker = tmp_path / "imported.txt"
    plugin = tmp_path / "mine.py"
    plugin.write_text(PLUGIN.format(marker=str(marker)))
    return csv, plugin, marker


def test_check_config_refuses_file_and_module_plugins_not_named_again(tmp_path):
    config = RunConfig(strategies=({"name": "./x/mine.py:Mine"},))
    with pytest.raises(InputError, match=r"run abc names the plugin .*add --plugin \./x/mine\.py:Mine"):
        check_config(config, "run abc")
    same = str((Path.cwd() / "x" / "mine.py").resolve()) + ":Mine"
    assert check_config(config, "run abc", plugins=[same]) is config  # compared resolved
    with pytest.raises(InputError):
        check_config(config, "run abc", plugins=["./x/mine.py:Other"])
    with pytest.raises(InputError, match="add --plugin os:Mine"):
        check_config(RunConfig(strategies=({"name": "os:Mine"},)), "config file f.toml")
    check_config(RunConfig(strategies=({"name": "ma-trend"},)), "run abc")  # registered: fine


def test_check_config_refuses_a_headline_model_not_named_again(tmp_path):
    config = RunConfig(headlines="csv:news.csv", headline_model=str(tmp_path / "model"))
    with pytest.raises(InputError, match=f"add --headline-model {tmp_path / 'model'}"):
        check_config(config, "run abc")
    check_config(config, "run abc", headline_models=[str(tmp_path / "." / "model")])
    check_config(RunConfig(headlines="csv:news.csv"), "run abc")  # the bundled default
    check_config(RunConfig(headline_model="/elsewhere"), "run abc")  # no headlines: nothing loads


def test_check_spec_refuses_plugins_and_models():
    spec = SweepSpec(name="s", strategies=[{"name": "p.py:Mine"}])
    with pytest.raises(InputError, match=r"sweep spec s\.toml names the plugin 'p\.py:Mine'"):
        check_spec(spec, "sweep spec s.toml")
    check_spec(spec, "sweep spec s.toml", plugins=["./p.py:Mine"])
    spec = SweepSpec(name="s", strategies=[{"name": "ma-trend"}], headlines=[False, "csv:n.csv"],
                     headline_model="/m")  # fmt: skip
    with pytest.raises(InputError, match="--headline-model /m"):
        check_spec(spec, "sweep spec s.toml")


def test_rerun_of_a_file_plugin_run_refuses_without_plugin_and_never_imports(tmp_path, capsys, planted):
    csv, plugin, marker = planted
    runs = str(tmp_path / "runs")
    code, out, err = cli(capsys, "run", "--data", f"csv:{csv}", "--strategy", f"{plugin}:Mine",
                         "--runs-dir", runs, "--no-audit", "--json")  # fmt: skip
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    marker.unlink()
    forget_plugins()
    code, _, err = cli(capsys, "rerun", run_id, "--runs-dir", runs)
    assert code == 2 and f"add --plugin {plugin}:Mine" in " ".join(err.split()), err
    assert len(err.strip().splitlines()) == 1
    assert not marker.exists(), "rerun imported the plugin file named by the run folder"
    code, _, err = cli(capsys, "rerun", run_id, "--runs-dir", runs, "--plugin", f"{plugin}:Mine")
    assert code == 0, err
    assert marker.exists()


def test_update_refuses_without_plugin_through_the_same_check(tmp_path, capsys, planted):
    csv, plugin, marker = planted
    runs = str(tmp_path / "runs")
    code, out, err = cli(capsys, "run", "--data", f"csv:{csv}", "--strategy", f"{plugin}:Mine",
                         "--runs-dir", runs, "--no-audit", "--json")  # fmt: skip
    run_id = json.loads(out)["run_id"]
    marker.unlink()
    forget_plugins()
    code, _, err = cli(capsys, "update", run_id, "--runs-dir", runs)
    assert code == 2 and "add --plugin" in err and not marker.exists(), err


def test_run_config_with_a_file_plugin_refuses_without_plugin(tmp_path, capsys, planted):
    csv, plugin, marker = planted
    config = tmp_path / "run.toml"
    config.write_text(f'data = "csv:{csv}"\nseeds = [0]\n[[strategies]]\nname = "{plugin}:Mine"\n')
    runs = str(tmp_path / "runs")
    forget_plugins()
    code, _, err = cli(capsys, "run", "--config", str(config), "--runs-dir", runs, "--no-audit")
    assert code == 2 and f"config file {config}" in err and "add --plugin" in err, err
    assert not marker.exists(), "run --config imported the plugin file the config file names"
    assert not list(RunStore(Path(runs)).list())
    code, _, err = cli(capsys, "run", "--config", str(config), "--runs-dir", runs, "--no-audit",
                       "--plugin", f"{plugin}:Mine")  # fmt: skip
    assert code == 0, err
    assert marker.exists()


def test_sweep_spec_naming_a_plugin_refuses_without_plugin(tmp_path, capsys, planted):
    csv, plugin, marker = planted
    spec = tmp_path / "s.toml"
    spec.write_text(f'name = "s"\ndata = "csv:{csv}"\nseeds = 1\n[[strategies]]\nname = "{plugin}:Mine"\n')
    runs = str(tmp_path / "runs")
    forget_plugins()
    code, _, err = cli(capsys, "sweep", str(spec), "--runs-dir", runs, "--workers", "1")
    assert code == 2 and f"sweep spec {spec}" in err and "add --plugin" in err, err
    assert not marker.exists(), "sweep imported the plugin file the spec names"
    code, _, err = cli(capsys, "sweep", str(spec), "--runs-dir", runs, "--workers", "1",
                       "--plugin", f"{plugin}:Mine")  # fmt: skip
    assert code == 0, err


def test_a_manifest_naming_a_headline_model_refuses_without_headline_model(tmp_path, capsys):
    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=300, tickers=("IDX",), seed=2))
    runs = tmp_path / "runs"
    code, out, err = cli(capsys, "run", "--data", f"csv:{csv}", "--seeds", "1", "--runs-dir", str(runs),
                         "--json")  # fmt: skip
    run_id = json.loads(out)["run_id"]
    manifest_path = runs / run_id / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    model = tmp_path / "planted-model"
    model.mkdir()
    manifest["config"] = {**manifest["config"], "headlines": "csv:news.csv", "headline_model": str(model)}
    manifest_path.write_text(json.dumps(manifest))
    code, _, err = cli(capsys, "rerun", run_id, "--runs-dir", str(runs))
    assert code == 2 and f"add --headline-model {model}" in " ".join(err.split()), err
    code, _, err = cli(capsys, "rerun", run_id, "--runs-dir", str(runs), "--headline-model", str(model))
    assert "--headline-model" not in err  # named again: past the check (fails later on the missing file)


def test_a_config_file_naming_a_headline_model_refuses_without_headline_model(tmp_path, capsys):
    model = tmp_path / "planted-model"
    model.mkdir()
    config = tmp_path / "run.toml"
    config.write_text(f'headlines = "csv:news.csv"\nheadline_model = "{model}"\n')
    code, _, err = cli(capsys, "run", "--config", str(config), "--runs-dir", str(tmp_path / "runs"))
    assert code == 2 and f"add --headline-model {model}" in " ".join(err.split()), err


def test_track_and_daily_need_the_plugin_named_on_their_command_line(tmp_path, capsys, planted):
    csv, plugin, marker = planted
    runs = str(tmp_path / "runs")
    code, out, err = cli(capsys, "run", "--data", f"csv:{csv}", "--strategy", f"{plugin}:Mine",
                         "--runs-dir", runs, "--no-audit", "--json")  # fmt: skip
    run_id = json.loads(out)["run_id"]
    code, _, err = cli(capsys, "track", run_id, "--runs-dir", runs, "--name", "mine")
    assert code == 2 and "add --plugin" in err, err
    code, _, err = cli(
        capsys, "track", run_id, "--runs-dir", runs, "--name", "mine", "--plugin", f"{plugin}:Mine"
    )
    assert code == 0, err
    marker.unlink()
    forget_plugins()
    longer = write_yahoo_csv(csv, random_walk_market(n=320, tickers=("IDX",), seed=2))
    assert longer == csv
    code, _, err = cli(capsys, "daily", "--runs-dir", runs)  # tracked.json alone names the plugin
    assert code == 2 and "add --plugin" in " ".join(err.split()), err
    assert not marker.exists()
