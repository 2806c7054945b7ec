"""The compiled LSTM path runs without importing torch: about a second of every run's start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import random_walk_market, write_yahoo_csv

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys
import strategies.nn.device as device
device.accelerator_possible = lambda: False  # as on a machine without a GPU driver
from engine.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "torch": "torch" in sys.modules}), file=sys.stderr)
"""


def run_isolated(tmp_path: Path, *args: str) -> tuple[dict, str]:
    """``backtest ARGS`` in a fresh interpreter; what it printed, and whether it imported torch."""
    env_runs = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-c", "import json\n" + SCRIPT, *args, "--runs-dir", str(env_runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
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
