"""Third-party strategies: discovery, a broken plugin failing alone, the scaffold, the example package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.store.run_store import COMPLETE, RunStore
from strategies.registry import PLUGINS_ENV, entries, resolve
from tests.conftest import random_walk_market, write_yahoo_csv
from tests.fixtures import bad_plugins

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "bad_plugins.py"


@pytest.fixture
def two_tickers(tmp_path):
    """A long CSV with two tickers."""
    market = random_walk_market(n=300, tickers=("AAA", "BBB"), seed=4)
    lines = ["date,ticker,close"]
    for t, day in enumerate(market.dates):
        for j, ticker in enumerate(market.tickers):
            lines.append(f"{day},{ticker},{market.close[t, j]:.6f}")
    path = tmp_path / "two.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "cls,fragment",
    [
        ("WrongShape", "shape (299, 1, 2)"),
        ("NanWeights", "mix NaN and numbers"),
        ("InfWeights", "infinite weight"),
        ("TooLeveraged", "exceeds the leverage limit 1"),
        ("Raises", "raised ZeroDivisionError: the plugin's own bug"),
        ("DatesOutOfOrder", "dates out of order at row 6"),
        ("WrongIndex", "299 dated rows for 300 days"),
    ],
)
def test_a_bad_plugin_fails_alone_with_its_name_and_problem(capsys, two_tickers, cls, fragment):
    code = main_code(
        [
            "run",
            "--data",
            f"csv:{two_tickers}",
            "--strategy",
            "ma-trend",
            "-p",
            "window=20",
            "--strategy",
            f"{BAD}:{cls}",
            "--json",
        ]
    )
    assert code == 1
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    failed = payload["failed_strategies"]
    name = getattr(bad_plugins, cls).name  # the plugin's own name is in the message
    assert len(failed) == 1 and failed[0]["name"] == name
    assert fragment in failed[0]["error"] and f"strategy {name}" in failed[0]["error"]
    assert [s["name"] for s in payload["strategies"]] == ["ma-trend"]  # the other strategy finished
    assert f"strategy {name} failed" in captured.err
    runs = RunStore(Path(os.environ["STOCKRNN_RUNS_DIR"])).list()
    assert [r.status for r in runs] == [COMPLETE]  # stored, readable, with the failure recorded
    assert fragment in runs[0].error


def main_code(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return int(exit_info.value.code or 0)


def test_incompatible_api_version_is_named(capsys):
    assert main_code(["run", "--strategy", f"{BAD}:OldApi"]) == 2
    message = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "OldApi: written for plugin API version 0, this engine speaks version 1" in message


def test_plugins_dir_lists_loose_files_and_a_broken_one_does_not_hide_others(tmp_path, monkeypatch, capsys):
    (tmp_path / "good.py").write_text(
        "import numpy as np\nfrom strategies import RuleStrategy\n\n"
        "class Half(RuleStrategy):\n    name = 'half-in'\n    summary = 'half invested'\n\n"
        "    def target_weights(self, history, seeds):\n"
        "        w = np.full(history.close.shape, np.nan)\n        w[0] = 0.5\n        return w\n"
    )
    (tmp_path / "broken.py").write_text(
        "import not_a_module_anywhere\nfrom strategies import RuleStrategy\n\n"
        "class Broken(RuleStrategy):\n    name = 'broken-one'\n"
    )
    monkeypatch.setenv(PLUGINS_ENV, str(tmp_path))
    assert {"half-in", "broken-one", "ma-trend"} <= set(entries())
    assert resolve("half-in").summary == "half invested"
    assert main_code(["strategies", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["half-in"]["status"] == "ok"
    assert (
        listed["broken-one"]["status"] == "broken"
        and "not_a_module_anywhere" in listed["broken-one"]["error"]
    )
    assert listed["ma-trend"]["status"] == "ok"


def install(package: Path, target: Path) -> dict[str, str]:
    """pip-install a plugin package (no dependencies) into ``target``; the env that sees it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(package),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}


@pytest.mark.slow
def test_the_scaffold_installs_and_passes_its_own_test(tmp_path):
    assert main_code(["new-strategy", "my-idea", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "stockrnn-my-idea"
    env = install(package, tmp_path / "site")
    listing = subprocess.run(
        [sys.executable, "-m", "engine.cli", "strategies"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "my-idea" in listing.stdout
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        env=env,
        capture_output=True,
        text=True,
        cwd=package,
        timeout=600,
    )
    assert test.returncode == 0, test.stdout[-2000:]


@pytest.mark.slow
def test_the_example_plugin_runs_through_the_cli(tmp_path):
    env = install(ROOT / "examples" / "gru-strategy", tmp_path / "site")
    env["STOCKRNN_RUNS_DIR"] = str(tmp_path / "runs")
    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=260, tickers=("IDX",), seed=2))
    command = [sys.executable, "-m", "engine.cli"]
    listing = subprocess.run([*command, "strategies"], env=env, capture_output=True, text=True, check=True)
    assert "gru-online" in listing.stdout
    run = subprocess.run(
        [
            *command,
            "run",
            "--data",
            f"csv:{csv}",
            "--strategy",
            "gru-online",
            "-p",
            "hidden=4",
            "-p",
            "warmup_years=0.3",
            "--seed-list",
            "0,1",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert [s["seed"] for s in json.loads(run.stdout)["strategies"][0]["seeds"]] == [0, 1]
    audit = subprocess.run(
        [
            *command,
            "audit",
            "gru-online",
            "--data",
            f"csv:{csv}",
            "-p",
            "hidden=4",
            "-p",
            "warmup_years=0.3",
            "--cuts",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert audit.returncode == 0 and "PASS" in audit.stdout, audit.stdout + audit.stderr


def test_a_raising_plugin_is_reported_with_the_day_and_its_file_and_line(capsys, two_tickers):
    code = main_code(["run", "--data", f"csv:{two_tickers}", "--strategy", f"{BAD}:RaisesOnADay"])
    err = " ".join(capsys.readouterr().err.split())
    day = random_walk_market(n=300, tickers=("AAA", "BBB"), seed=4).dates[49]
    assert code == 1 and f"raised IndexError on {day}" in err
    line = next(
        i for i, text in enumerate(BAD.read_text().splitlines(), 1) if "IndexError on purpose" in text
    )
    assert f"bad_plugins.py:{line}" in err and "Traceback" not in err


def test_plugins_dir_registers_subclasses_of_a_helper_and_lists_what_it_skips(tmp_path, monkeypatch, capsys):
    (tmp_path / "mine.py").write_text(
        "import numpy as np\nfrom strategies import RuleStrategy\n\n"
        "class MyBase(RuleStrategy):\n    def helper(self):\n        return 0.5\n\n"
        "class Half(MyBase):\n    name = 'half-via-helper'\n\n"
        "    def target_weights(self, history, seeds):\n"
        "        return np.full(history.close.shape, self.helper())\n\n"
        "class NotAStrategy:\n    name = 'lost'\n"
    )
    monkeypatch.setenv(PLUGINS_ENV, str(tmp_path))
    assert resolve("half-via-helper").__name__ == "Half"
    assert main_code(["strategies", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["half-via-helper"]["status"] == "ok"
    base = listed[f"{tmp_path / 'mine.py'}:MyBase"]
    assert base["status"] == "skipped" and "no `name`" in base["error"]
    assert "does not subclass" in listed[f"{tmp_path / 'mine.py'}:NotAStrategy"]["error"]


def test_a_misspelled_param_without_owner_gets_did_you_mean(capsys):
    code = main_code(["run", "--strategy", "ma-trend", "--param", "windw=10"])
    assert code == 2 and "did you mean 'window'?" in capsys.readouterr().err
