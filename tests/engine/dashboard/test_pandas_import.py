"""engine.dashboard.pandas_import: pandas imported once per server, never seen half imported."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import plotly.graph_objects as go

from engine.dashboard import pandas_import
from engine.dashboard.chart_view import figure_bytes

ROOT = Path(__file__).resolve().parents[3]

# eight script threads at once, each about to draw its first table: each must see pandas whole
THREADS = """
import sys, threading
assert "pandas" not in sys.modules
from engine.dashboard.pandas_import import import_pandas_once
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


def test_a_chart_is_not_written_while_another_thread_is_importing_pandas():
    """plotly's JSON writer uses pandas when ``sys.modules`` has it: it waits for the import's end."""
    written = threading.Event()
    with pandas_import._PANDAS_LOCK:  # another script thread inside import_pandas_once
        writer = threading.Thread(target=lambda: (figure_bytes(go.Figure([go.Bar(y=[1])])), written.set()))
        writer.start()
        assert not written.wait(0.3)
    assert written.wait(30)
    writer.join()
