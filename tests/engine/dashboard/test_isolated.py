"""Worker and server children import this package, never a same-named folder of the working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.dashboard.isolated import isolated_command, package_root
from engine.dashboard.jobs import Job
from engine.store.run_store import RunStore
from tests.conftest import random_walk_market, write_yahoo_csv
from tests.engine.dashboard.test_jobs import wait

SHADOWED = ("engine", "feeds", "strategies")


@pytest.fixture
def decoy(tmp_path, monkeypatch):
    """A working directory holding folders named like our packages, which fail loudly when imported."""
    folder = tmp_path / "project"
    for name in SHADOWED:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f"raise SystemExit('the local {name}/ was imported')\n")
    monkeypatch.chdir(folder)
    return folder


def test_the_decoy_shadows_a_plain_python_m_child(decoy):
    """What the dashboard did before (``python -m engine.cli`` from the user's directory)."""
    done = subprocess.run([sys.executable, "-m", "engine.cli", "--help"], capture_output=True, text=True)
    assert done.returncode != 0 and "the local engine/ was imported" in done.stderr


def test_an_isolated_child_imports_this_package_whatever_the_directory_and_pythonpath(decoy, monkeypatch):
    # a relative and an absolute entry, both naming the decoy directory
    monkeypatch.setenv("PYTHONPATH", f".{os.pathsep}{decoy}")
    probe = "import engine, feeds, strategies; print(engine.__file__, feeds.__file__, strategies.__file__)"
    (decoy / "probe_module.py").write_text(probe)  # importable only through the PYTHONPATH entry
    done = subprocess.run(isolated_command("probe_module"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = [Path(p) for p in done.stdout.split()]
    assert files == [package_root() / name / "__init__.py" for name in SHADOWED]


def test_a_dashboard_job_runs_from_a_directory_with_engine_and_strategies_folders(decoy, tmp_path):
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=250, tickers=("A",), seed=7))
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="ma-trend", params={"window": 12}),))
    status = wait(Job.start(config, runs_dir=tmp_path / "runs"))
    assert status.state == "done", status.error
    _, payload = RunStore(tmp_path / "runs").load_metrics(status.run_id)
    assert payload["strategies"][0]["params"]["window"] == 12
