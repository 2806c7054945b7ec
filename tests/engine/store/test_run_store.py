"""The store: atomic publication, listing of complete, failed, incomplete and broken runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.store.run_store import BROKEN, COMPLETE, FAILED, INCOMPLETE, RunStore
from engine.workflows.record import run_and_store
from strategies.errors import StrategyError
from tests.conftest import random_walk_market


def small_config(*names, **kw):
    return RunConfig(strategies=tuple(StrategySpec(name=n) for n in names), seeds=(0, 1), **kw)


def test_complete_run_has_every_file_and_reads_back(tmp_path):
    store = RunStore(tmp_path / "runs")
    prepared = prepare(small_config("ma-trend"), market=random_walk_market(n=400))
    result = run_and_store(prepared, store)
    info = store.find(result.run_id[:15])
    assert info.status == COMPLETE
    assert {p.name for p in info.path.iterdir()} == {
        "manifest.json",
        "metrics.json",
        "equity.parquet",
        "weights.parquet",
    }
    manifest = json.loads((info.path / "manifest.json").read_text())
    assert manifest["data"]["fingerprint"] == prepared.market.fingerprint()
    assert manifest["versions"]["vectorbt"] and manifest["seeds"] == [0, 1]
    _, payload = store.load_metrics("latest")
    assert payload == json.loads(json.dumps(result.to_dict()))
    equity = store.load_equity(result.run_id)
    assert set(equity["strategy"].unique()) == {"ma-trend", "buy-and-hold"}


def test_failed_strategy_is_recorded_as_failed(tmp_path):
    store = RunStore(tmp_path / "runs")
    prepared = prepare(small_config("tests/fixtures/leaky.py:RaisesOnDay"), market=random_walk_market())
    with pytest.raises(StrategyError, match="raises raised ZeroDivisionError: bug in the plugin"):
        run_and_store(prepared, store)
    [info] = store.list()
    assert info.status == FAILED and "bug in the plugin" in info.error


def test_broken_and_partial_folders_are_listed_not_fatal(tmp_path):
    root = tmp_path / "runs"
    (root / "20200101-000000-aaaaaa").mkdir(parents=True)
    (root / "20200101-000000-aaaaaa" / "manifest.json").write_text("{not json")
    (root / "20200102-000000-bbbbbb.partial").mkdir()
    statuses = {i.run_id: i.status for i in RunStore(root).list()}
    assert statuses == {"20200101-000000-aaaaaa": BROKEN, "20200102-000000-bbbbbb": INCOMPLETE}


@pytest.mark.slow
def test_a_run_killed_midway_never_appears_complete(tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "run",
            "--strategy",
            "tests/fixtures/leaky.py:SlowOnline",
            "--start",
            "2015-01-01",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(runs.glob("*.partial")):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    infos = RunStore(runs).list()
    assert [i.status for i in infos] == [INCOMPLETE]
    assert not any(i.status == COMPLETE for i in infos)


def test_record_is_the_one_writer_failed_outcomes_keep_their_message(tmp_path):
    from engine.store.run_store import CANCELLED, PARTIAL, RunFailed

    store = RunStore(tmp_path)

    def fails() -> None:
        raise RunFailed("cell exploded: ValueError: x")

    with pytest.raises(RunFailed):
        store.record("20240101-000000-aaaaaa", {"config": {}}, fails, started=time.time())
    (info,) = store.list()
    assert info.status == FAILED and info.error == "cell exploded: ValueError: x"
    assert info.manifest["duration_s"] >= 0 and "finished_at" in info.manifest

    # a writer stopped midway (a dashboard job): the partial folder is published as cancelled
    partial = tmp_path / f"20240101-000001-bbbbbb{PARTIAL}"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"config": {}}))
    assert store.cancel("20240101-000001-bbbbbb", "cancelled from the dashboard") is not None
    assert store.find("20240101-000001-bbbbbb").status == CANCELLED
    assert store.cancel("20240101-000002-cccccc", "gone") is None
