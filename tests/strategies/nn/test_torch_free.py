"""The compiled LSTM path runs without importing torch: about a second of every run's start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import random_walk_market, write_yahoo_csv

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import os, sys
import strategies.nn.device as device
device.accelerator_possible = lambda: os.environ["GPU_DRIVER"] == "1"  # a machine with or without one
from engine.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules}), file=sys.stderr)
"""


def run_isolated(tmp_path: Path, *args: str, driver: bool = False) -> tuple[dict, str]:
    """``backtest ARGS`` in a fresh interpreter; what it printed, and whether it imported torch.
    ``driver``: as on a machine with a GPU driver (the run must then ask torch for ``auto``)."""
    env_runs = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-c", "import json\n" + SCRIPT, *args, "--runs-dir", str(env_runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "GPU_DRIVER": "1" if driver else "0"},
    )
    return json.loads(proc.stderr.strip().splitlines()[-1]), proc.stdout


def test_lstm_stateful_on_the_cpu_never_imports_torch(tmp_path):
    csv = write_yahoo_csv(tmp_path / "AAA.csv", random_walk_market(n=300, seed=3))
    lstm = ["--strategy", "lstm-stateful", "--seed-list", "0,1", "--param", "hidden=4"]
    report, out = run_isolated(
        tmp_path, "run", "--data", f"csv:{csv}", *lstm, "--param", "warmup_years=0.5", "--json"
    )
    assert report == {"code": 0, "torch": False}
    run_id = json.loads(out)["run_id"]
    # its checkpoint is read and continued without torch too
    longer = tmp_path / "long"
    longer.mkdir()
    more = write_yahoo_csv(longer / "AAA.csv", random_walk_market(n=320, seed=3))
    report, _ = run_isolated(tmp_path, "update", run_id, "--data", f"csv:{more}")
    assert report == {"code": 0, "torch": False}


def test_with_a_gpu_driver_auto_asks_torch_before_the_run_records_its_device(tmp_path):
    import torch

    csv = write_yahoo_csv(tmp_path / "AAA.csv", random_walk_market(n=300, seed=3))
    lstm = [
        "--strategy",
        "lstm-stateful",
        "--seed-list",
        "0",
        "--param",
        "hidden=4",
        "--param",
        "warmup_years=0.5",
    ]
    report, out = run_isolated(tmp_path, "run", "--data", f"csv:{csv}", *lstm, "--json", driver=True)
    assert report == {"code": 0, "torch": True}
    run = json.loads(out)
    expected = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert run["device"] == expected
    manifest = json.loads((tmp_path / "runs" / run["run_id"] / "manifest.json").read_text())
    assert manifest["device"]["used"] == expected and manifest["device"]["torch"] == torch.__version__
