"""engine.dashboard.warm_up: pandas imported once per server process, every script thread through one lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# eight script threads at once, each about to draw its first table: each must see pandas whole
THREADS = """
import sys, threading
assert "pandas" not in sys.modules
from engine.dashboard.warm_up import import_pandas_once
start, shapes = threading.Barrier(8), []
def first_table():
    start.wait()
    import_pandas_once()
    import pandas
    shapes.append(pandas.DataFrame({"a": [1.0]}).shape)
threads = [threading.Thread(target=first_table) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert shapes == [(1, 1)] * 8, shapes
"""


def test_script_threads_drawing_their_first_tables_at_once_each_see_pandas_whole():
    done = subprocess.run(
        [sys.executable, "-c", THREADS], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
