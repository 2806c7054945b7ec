"""The dashboard's worker: a run through the Python API from a job folder; outcome and progress as files."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.dashboard.jobs import JOBS, Job, plain_error
from engine.dashboard.worker import ERROR, OUTPUT, RESULT, progress_writer, run_job, write_request
from engine.store.run_store import RunStore
from tests.conftest import random_walk_market, write_yahoo_csv
from tests.engine.dashboard.test_jobs import wait

ROOT = Path(__file__).resolve().parents[3]
LEAKY = ROOT / "tests" / "fixtures" / "leaky.py"


def job_folder(tmp_path: Path, config: RunConfig, **request) -> Path:
    folder = tmp_path / "runs" / JOBS / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    write_request(folder, config, **request)
    return folder


@pytest.fixture
def worker_env(monkeypatch):
    """run_job sets the job's environment in its own process: restore it after the test."""
    monkeypatch.setenv("STOCKRNN_JOB", "")
    monkeypatch.setenv("STOCKRNN_PLUGINS_DIR", "")


def test_a_tiny_run_through_the_worker_is_stored_with_its_job_and_progress(tmp_path, worker_env):
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=250, tickers=("A",), seed=5))
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="ma-trend", params={"window": 15}),))
    folder = job_folder(tmp_path, config)
    assert run_job(folder) == 0
    result = json.loads((folder / RESULT).read_text())
    assert result["failed"] == {} and not (folder / ERROR).exists()
    info, payload = RunStore(tmp_path / "runs").load_metrics(result["run_id"])
    assert info.manifest["job"] == folder.name
    assert payload["config"] == config.model_dump(mode="json")
    assert json.loads((folder / "progress.json").read_text())["stage"] == "storing"


def test_bad_input_is_one_plain_line_exit_2_and_nothing_stored(tmp_path, worker_env):
    config = RunConfig(data=f"csv:{tmp_path / 'missing.csv'}")
    folder = job_folder(tmp_path, config)
    assert run_job(folder) == 2
    line = (folder / ERROR).read_text()
    assert line.count("\n") == 1 and "missing.csv" in line
    assert not (folder / RESULT).exists()
    assert RunStore(tmp_path / "runs").list() == []


def test_the_page_shows_the_line_the_cli_prints_for_the_same_error(tmp_path):
    """Errors read as before the worker used the API: the CLI's one line, in the page's words."""
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-02,abc\n")
    config = RunConfig(data=f"csv:{bad}")
    status = wait(Job.start(config, runs_dir=tmp_path / "runs"))
    assert status.state == "failed"
    cli = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", "--data", f"csv:{bad}", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert cli.returncode == 2
    assert status.error == plain_error(cli.stderr.strip().splitlines()[-1])
    assert "Traceback" not in status.error


def test_a_plugin_that_fails_its_first_use_audit_is_not_run(tmp_path, worker_env, monkeypatch):
    monkeypatch.delenv("STOCKRNN_NO_AUDIT")
    csv = write_yahoo_csv(tmp_path / "T.csv", random_walk_market(n=200, seed=2))
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name=f"{LEAKY}:PeekTomorrow"),))
    folder = job_folder(tmp_path, config, cache_dir=tmp_path / "cache")
    assert run_job(folder) == 1
    line = (folder / ERROR).read_text()
    assert "first-use look-ahead audit" in line and "LOOK-AHEAD" in line
    assert RunStore(tmp_path / "runs").list() == []


def test_plugins_dirs_go_with_the_job(tmp_path, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "half.py").write_text(
        "import numpy as np\nfrom strategies import RuleStrategy, StrategyParams\n\n"
        "class Half(RuleStrategy):\n    name = 'half-in'\n    summary = 'half invested'\n"
        "    Params = StrategyParams\n\n"
        "    def target_weights(self, history, seeds):\n"
        "        w = np.full(history.close.shape, np.nan)\n        w[0] = 0.5\n        return w\n"
    )
    monkeypatch.setenv("STOCKRNN_PLUGINS_DIR", str(plugins))  # as `backtest --plugins-dir` sets it
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=250, tickers=("A",), seed=6))
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="half-in"),))
    job = Job.start(config, runs_dir=tmp_path / "runs")
    monkeypatch.delenv("STOCKRNN_PLUGINS_DIR")  # the job carries them, not this process's environment
    status = wait(job)
    assert status.state == "done", status.error + (job.folder / OUTPUT).read_text()
    _, payload = RunStore(tmp_path / "runs").load_metrics(status.run_id)
    assert payload["strategies"][0]["name"] == "half-in"


def test_progress_is_the_latest_event_with_its_stage_start(tmp_path):
    path = tmp_path / "progress.json"
    record = progress_writer(path)
    record("lstm-stateful", 0, 100)
    first = json.loads(path.read_text())
    time.sleep(0.01)
    record("lstm-stateful", 40, 100)
    latest = json.loads(path.read_text())
    assert (latest["stage"], latest["done"], latest["total"]) == ("lstm-stateful", 40, 100)
    assert latest["stage_started"] == first["stage_started"] < latest["time"]
