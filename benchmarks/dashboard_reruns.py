"""Server time of the dashboard's script runs with many stored runs and a 100-cell sweep (AppTest).

    python benchmarks/dashboard_reruns.py --runs 500 --cells 100 --app-root /tmp/before --app-root .

Builds a store of N runs (copies of one real run under new ids) plus a sweep of C
cells (copies tagged as one sweep), then for each app root, in its own process,
times with streamlit's AppTest: the first script run, a widget change on the Run
tab (what every keystroke in the form costs), and the Sweeps tab. Browser rendering
is not included (see dashboard_check.py timings). Medians of 3; contended machines
give noisy figures, so compare the roots measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time
from streamlit.testing.v1 import AppTest
app = sys.argv[1]
out = {}
at = AppTest.from_file(app, default_timeout=600)
t = time.perf_counter(); at.run(); out["first run"] = time.perf_counter() - t
changes = []
for value in (6.0, 7.0, 8.0):
    t = time.perf_counter(); at.number_input(key="cost").set_value(value).run()
    changes.append(time.perf_counter() - t)
out["Run-tab widget change"] = statistics.median(changes)
at.session_state["section"] = "Runs"  # lazy tabs: open it as a click would (a no-op without them)
t = time.perf_counter(); at.run(); out["Runs tab"] = time.perf_counter() - t
box = at.selectbox(key="open-run")
opens = []
for option in box.options[len(box.options) // 2 :][:3]:
    t = time.perf_counter(); at.selectbox(key="open-run").select(option).run()
    opens.append(time.perf_counter() - t)
out["open a run"] = statistics.median(opens)
if any(getattr(tab, "label", "") == "Sweeps" for tab in at.tabs):
    try:
        at.session_state["section"] = "Sweeps"  # lazy tabs: open it as a click would
    except Exception:
        pass
    sweeps = []
    for _ in range(3):
        t = time.perf_counter(); at.run(); sweeps.append(time.perf_counter() - t)
    out["Sweeps tab (cold, then warm)"] = [round(sweeps[0], 2), round(statistics.median(sweeps[1:]), 2)]
assert not at.exception, [e.value for e in at.exception]
print(json.dumps(out))
"""


def make_store(runs_dir: Path, n: int, cells: int) -> None:
    """``n`` runs and a ``cells``-cell sweep, copied from one real ma-trend run on the sample."""
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", "--strategy", "ma-trend", "--json"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    source = runs_dir / json.loads(out.stdout)["run_id"]
    for i in range(n + cells - 1):
        run_id = f"20200101-{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:06x}"
        target = runs_dir / run_id
        shutil.copytree(source, target)
        manifest = json.loads((target / "manifest.json").read_text())
        manifest["run_id"] = run_id
        if i < cells:
            manifest.update(sweep="big", cell=f"c{i}", cell_label=f"ma-trend window={10 + i}")
        (target / "manifest.json").write_text(json.dumps(manifest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--app-root", type=Path, action="append", default=None)
    args = parser.parse_args()
    runs_dir = Path(tempfile.mkdtemp(prefix="stockrnn-reruns-"))
    make_store(runs_dir, args.runs - args.cells, args.cells)
    count = sum(1 for p in runs_dir.iterdir() if p.is_dir())
    print(f"store: {count} runs ({args.cells} of them one sweep) in {runs_dir}")
    for root in args.app_root or [ROOT]:
        root = root.resolve()
        env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(root / "app.py")],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            print(f"{root}: failed\n{done.stderr[-2000:]}")
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        shown = ", ".join(
            f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v[0]:.2f} s / {v[1]:.2f} s"
            for k, v in figures.items()
        )
        print(f"{root}: {shown}")
    shutil.rmtree(runs_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
