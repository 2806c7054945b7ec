"""Locks on a runs directory: nothing computed twice, nothing left behind by a killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.store.locks import Claim, runs_dir_lock
from engine.store.run_store import COMPLETE, RunStore
from tests.conftest import random_walk_market, write_yahoo_csv

ROOT = Path(__file__).resolve().parents[3]


def test_a_claim_is_exclusive_and_released(tmp_path):
    first = Claim.try_acquire(tmp_path, "cell-1")
    assert first is not None
    assert Claim.try_acquire(tmp_path, "cell-1") is None
    assert Claim.try_acquire(tmp_path, "cell-2") is not None
    first.release()
    assert Claim.try_acquire(tmp_path, "cell-1") is not None


def test_a_lock_held_by_a_killed_process_is_free_again(tmp_path):
    code = (
        "import sys, time; from pathlib import Path; from engine.store.locks import runs_dir_lock\n"
        "with runs_dir_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(TimeoutError), runs_dir_lock(tmp_path, timeout=0.2):
        pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with runs_dir_lock(tmp_path, timeout=5):
        pass


@pytest.mark.slow
def test_two_identical_sweeps_at_once_compute_each_cell_once(tmp_path):
    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=300, tickers=("IDX",), seed=6))
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        f'name = "twice"\ndata = "csv:{csv}"\nseeds = 1\n'
        '[[strategies]]\nname = "ma-trend"\ngrid = { window = [5, 10, 15, 20, 25, 30] }\n'
    )
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STOCKRNN_RUNS_DIR": str(runs)}
    cmd = [sys.executable, "-m", "engine.cli", "sweep", str(spec), "--workers", "1"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        p.wait(timeout=600)
        assert p.returncode == 0, p.stderr.read() if p.stderr else ""
    infos = [i for i in RunStore(runs).list() if i.manifest.get("sweep") == "twice"]
    cells = [i.manifest["cell"] for i in infos]
    assert len(cells) == 6 and len(set(cells)) == 6, [i.status for i in infos]
    assert {i.status for i in infos} == {COMPLETE}
