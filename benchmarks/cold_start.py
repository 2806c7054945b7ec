"""Stock-RNN benchmark: the first ``backtest run --strategy lstm-stateful`` on a fresh install vs a warm one.

A fresh install has an empty numba cache: the first run compiles the LSTM day
step (strategies.nn.lstm_kernel) and the fills (engine.pipeline.fills, vectorbt's
kernels). Here ``NUMBA_CACHE_DIR`` points at a new temporary directory (numba
then keeps every ``cache=True`` kernel there instead of beside the sources), the
run is timed once with it empty (cold) and once again with what the cold run
left there (warm), each in a fresh process, on the same machine, one after the
other. Printed side by side: wall and CPU seconds, the difference (goal: cold at
most 15 s longer than warm), and the progress lines that name a compile.

Usage: ``python benchmarks/cold_start.py [--before DIR] [--by-function] [-- extra run args]``.
``--before DIR``: another checkout (``git archive <commit> | tar -x -C DIR``)
measured the same way in the same run, first. ``--by-function``: one more cold
run of each checkout (not timed) that lists what numba compiled, from numba's
event API (``numba:compile``): CPU seconds of the compiling thread per function,
exclusive of the functions compiled inside it, summed over its specializations.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run in the child of --by-function: `python -m engine` with a numba:compile listener that writes
# (function, exclusive thread CPU s, thread name) rows as JSON to argv[1] at exit
LISTENER = """
import atexit, json, runpy, sys, threading, time
import numba.core.event as ev
out, rows, stacks = sys.argv.pop(1), [], {}
class Listener(ev.Listener):
    def on_start(self, event):
        stacks.setdefault(threading.get_ident(), []).append([time.thread_time(), 0.0])
    def on_end(self, event):
        stack = stacks[threading.get_ident()]
        start, inner = stack.pop()
        spent = time.thread_time() - start
        if stack:
            stack[-1][1] += spent
        fn = getattr(event.data["dispatcher"], "py_func", None)
        name = f"{fn.__module__}.{fn.__qualname__}" if fn else str(event.data["dispatcher"])
        rows.append((name, spent - inner, threading.current_thread().name))
ev.register("numba:compile", Listener())
atexit.register(lambda: open(out, "w").write(json.dumps(rows)))
sys.argv[0] = "engine"
runpy.run_module("engine", run_name="__main__", alter_sys=True)
"""
RUN = ["run", "--strategy", "lstm-stateful"]


def timed_run(root: Path, cache_dir: str, runs_dir: str, extra: list[str]) -> tuple[float, float, list[str]]:
    """(wall s, CPU s, the progress stages it reported, in order) of one fresh-process run of ``root``'s code.

    The stages are read from ``--progress-file`` every 20 ms, as the dashboard reads a worker's."""
    env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": cache_dir}
    progress_file = Path(runs_dir) / "progress.json"
    argv = [sys.executable, "-m", "engine", *RUN, *extra, "--runs-dir", runs_dir]
    argv += ["--progress-file", str(progress_file)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    errors = (Path(runs_dir) / "stderr.txt").open("w+")  # a file, not a pipe: nothing blocks
    proc = subprocess.Popen(argv, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=errors)
    stages: dict[str, None] = {}
    while proc.poll() is None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            stages.setdefault(json.loads(progress_file.read_text())["stage"], None)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    errors.seek(0)
    stderr = errors.read()
    errors.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, list(stages)


def cold_and_warm(label: str, root: Path, extra: list[str]) -> None:
    """Time a cold (empty numba cache) and then a warm run of ``root``'s code; print both and the gap."""
    with tempfile.TemporaryDirectory() as cache_dir, tempfile.TemporaryDirectory() as runs_dir:
        cold = timed_run(root, cache_dir, runs_dir, extra)
        warm = timed_run(root, cache_dir, runs_dir, extra)
    for kind, (wall, cpu, lines) in (("cold", cold), ("warm", warm)):
        print(f"{label:7s} {kind}: wall {wall:6.2f} s   CPU {cpu:6.2f} s")
        print(f"          stages seen: {'; '.join(lines)}")
    print(f"{label:7s} cold - warm: wall {cold[0] - warm[0]:+6.2f} s   CPU {cold[1] - warm[1]:+6.2f} s")


def by_function(label: str, root: Path, extra: list[str]) -> None:
    """One more cold run of ``root``'s code (empty numba cache, not timed): print CPU seconds spent
    compiling each function (exclusive of its callees' compiles, all specializations summed)."""
    with tempfile.TemporaryDirectory() as cache_dir, tempfile.TemporaryDirectory() as runs_dir:
        out = Path(runs_dir) / "compiles.json"
        env = {**os.environ, "PYTHONPATH": str(root), "NUMBA_CACHE_DIR": cache_dir}
        argv = [sys.executable, "-c", LISTENER, str(out), *RUN, *extra, "--runs-dir", runs_dir]
        subprocess.run(argv, env=env, cwd=root, stdout=subprocess.DEVNULL, check=True)
        rows = json.loads(out.read_text())
    totals: dict[str, list[float]] = {}
    for name, cpu, thread in rows:
        entry = totals.setdefault(f"{name}  [{thread[:24]}]", [0.0, 0.0])
        entry[0] += cpu
        entry[1] += 1
    print(f"{label:7s} compiles: {len(rows)}, {sum(r[1] for r in rows):.2f} s CPU in all (largest first)")
    for key, (cpu, count) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:14]:
        print(f"          {cpu:6.2f} s  x{count:<3.0f} {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout, measured first in the same run")
    parser.add_argument("--by-function", action="store_true", help="list what a cold run compiles")
    parser.add_argument("extra", nargs="*", help="extra arguments for backtest run (after --)")
    args = parser.parse_args()
    command = " ".join(["backtest", *RUN, *args.extra])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {command}")
    checkouts = [("BEFORE", args.before.resolve())] if args.before else []
    checkouts.append(("now", ROOT))
    for label, root in checkouts:
        cold_and_warm(label, root, args.extra)
    for label, root in checkouts if args.by_function else ():
        by_function(label, root, args.extra)


if __name__ == "__main__":
    main()
