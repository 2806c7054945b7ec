"""Soak test of the store: many short runs from concurrent processes, some killed with SIGKILL.

    python benchmarks/soak.py                    # 200 runs, 4 at a time, 1 in 10 killed
    python benchmarks/soak.py --runs 60 --keep   # fewer; keep the runs dir to look at

Phase 1: ``--runs`` invocations of the real ``backtest run`` command (ma-trend and
buy-and-hold on a short window of the bundled sample), ``--concurrency`` at a
time, into one runs directory; one in ``--kill-every`` gets SIGKILL at a random
moment of its expected life. Phase 2: a sweep (``--cells`` cells) started twice
at once, one of the two killed at a random moment, then run again to finish.

Checked afterwards: every folder of the runs directory is complete, failed, or
listed incomplete/broken (none unaccounted for); every complete run re-reads
(metrics.json parsed and checked, both Parquet files read in full); no sweep
cell is stored complete twice; the final sweep ran exactly the cells that were
missing. Prints the figures; exits 1 if a check fails. Timing is wall clock on
whatever machine this runs on (contended machines make it slow, not wrong).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def backtest() -> list[str]:
    script = Path(sys.executable).with_name("backtest")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "engine.cli"]


def env_for(runs: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "STOCKRNN_RUNS_DIR": str(runs),
    }


def run_phase(runs: Path, n: int, concurrency: int, kill_every: int, rng: random.Random) -> dict[str, int]:
    """``n`` CLI runs, ``concurrency`` at a time, every ``kill_every``-th (at random) SIGKILLed."""
    kills = set(rng.sample(range(n), n // kill_every))
    windows = [("2019-01-01", "2020-12-31"), ("2018-01-01", "2020-06-30"), ("2020-01-01", "2021-12-31")]
    env = env_for(runs)
    pending = list(range(n))
    live: dict[int, tuple[subprocess.Popen[bytes], float | None, float]] = {}
    counts = {"exit0": 0, "killed": 0, "other": 0}
    typical = 6.0  # seconds; updated from finished runs so kills land inside a run's life
    durations: list[float] = []
    while pending or live:
        while pending and len(live) < concurrency:
            i = pending.pop(0)
            start, end = windows[i % len(windows)]
            strategy = "ma-trend" if i % 2 == 0 else "buy-and-hold"
            cmd = [*backtest(), "run", "--strategy", strategy, "--start", start, "--end", end, "--json"]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # a random moment of a run's expected life: import, compute, write or publish
            kill_at = time.monotonic() + rng.uniform(0.2, 1.2 * typical) if i in kills else None
            live[i] = (proc, kill_at, time.monotonic())
        time.sleep(0.05)
        for i, (proc, kill_at, began) in list(live.items()):
            if kill_at is not None and time.monotonic() >= kill_at and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            code = proc.poll()
            if code is None:
                continue
            del live[i]
            if code == -signal.SIGKILL:
                counts["killed"] += 1
            elif code == 0:
                counts["exit0"] += 1
                durations.append(time.monotonic() - began)
                typical = sorted(durations)[len(durations) // 2]
                if counts["exit0"] % 20 == 0:
                    print(f"  {counts} ({typical:.0f} s per run, median)", flush=True)
            else:
                counts["other"] += 1
    counts["median_s"] = round(sorted(durations)[len(durations) // 2]) if durations else 0
    return counts


SPEC = """
name = "soak"
data = "sample"
seeds = 1
periods = [["2019-01-01", "2020-12-31"]]
[[strategies]]
name = "ma-trend"
grid = {{ window = {windows} }}
"""


def sweep_phase(runs: Path, cells: int, rng: random.Random, folder: Path) -> dict[str, object]:
    """Two identical sweeps at once, one SIGKILLed at random; then the sweep again to finish."""
    spec = folder / "soak.toml"
    spec.write_text(SPEC.format(windows=json.dumps(list(range(5, 5 + cells)))))
    cmd = [*backtest(), "sweep", str(spec), "--workers", "1"]
    env = env_for(runs)
    a = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # its own process group: the kill takes the sweep and its pool workers at once, like a crash
    b = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    time.sleep(rng.uniform(5.0, 5.0 + cells * 1.0))
    if b.poll() is None:
        os.killpg(b.pid, signal.SIGKILL)
    a_out, a_err = a.communicate(timeout=3600)
    b.wait(timeout=60)
    before = complete_cells(runs)
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    ran_now = _ran_now(final.stdout)
    return {
        "cells": cells,
        "sweep A exit": a.returncode,
        "sweep A summary": a_out.strip().splitlines()[0] if a_out.strip() else a_err.strip()[-200:],
        "sweep B": "killed" if b.returncode == -signal.SIGKILL else f"exit {b.returncode}",
        "complete before the re-run": len(before),
        "re-run computed": ran_now,
        "re-run summary": final.stdout.strip().splitlines()[0]
        if final.stdout.strip()
        else final.stderr[-300:],
    }


def _ran_now(summary: str) -> int:
    found = re.search(r"(\d+) run now", summary)
    return int(found.group(1)) if found else -1


def complete_cells(runs: Path) -> dict[str, list[str]]:
    from engine.store.run_store import COMPLETE, RunStore

    cells: dict[str, list[str]] = {}
    for info in RunStore(runs).list():
        if info.status == COMPLETE and info.manifest.get("sweep") == "soak":
            cells.setdefault(info.manifest["cell"], []).append(info.run_id)
    return cells


def verify(runs: Path) -> dict[str, object]:
    """Every folder accounted for; every complete run re-read in full."""
    import polars as pl

    from engine.store.run_store import BROKEN, COMPLETE, FAILED, INCOMPLETE, RunStore

    store = RunStore(runs)
    infos = store.list()
    folders = [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "sweeps"]
    statuses: dict[str, int] = {}
    for info in infos:
        statuses[info.status] = statuses.get(info.status, 0) + 1
    damaged = []
    for info in infos:
        if info.status != COMPLETE:
            continue
        try:
            _, metrics = store.load_metrics(info.run_id)  # the full check
            assert metrics["run_id"] == info.run_id
            pl.read_parquet(info.path / "equity.parquet")
            pl.read_parquet(info.path / "weights.parquet")
        except Exception as exc:
            damaged.append(f"{info.run_id}: {type(exc).__name__}: {exc}")
    known = {COMPLETE, FAILED, INCOMPLETE, BROKEN}
    return {
        "folders": len(folders),
        "listed": len(infos),
        "statuses": statuses,
        "unknown statuses": sorted({i.status for i in infos} - known),
        "complete runs damaged on re-read": damaged,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--kill-every", type=int, default=10)
    parser.add_argument("--cells", type=int, default=12)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the temporary runs directory")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="stockrnn-soak-"))
    runs = folder / "runs"
    began = time.time()
    phase1 = run_phase(runs, args.runs, args.concurrency, args.kill_every, rng)
    t1 = time.time() - began
    print(f"phase 1: {args.runs} runs, {args.concurrency} at a time, {t1:.0f} s: {phase1}")
    check1 = verify(runs)
    print(f"  after phase 1: {check1}")
    phase2 = sweep_phase(runs, args.cells, rng, folder)
    print(f"phase 2 (sweep): {phase2}")
    cells = complete_cells(runs)
    twice = {k: v for k, v in cells.items() if len(v) > 1}
    check2 = verify(runs)
    print(f"  after phase 2: {check2}")
    print(f"  sweep cells complete: {len(cells)} of {args.cells}; stored complete twice: {len(twice)}")
    expected_rerun = args.cells - int(phase2["complete before the re-run"])  # type: ignore[call-overload]
    ok = (
        not check2["complete runs damaged on re-read"]
        and not check2["unknown statuses"]
        and check2["folders"] == check2["listed"]
        and not twice
        and len(cells) == args.cells
        and phase2["re-run computed"] == expected_rerun
        and phase1["other"] == 0
    )
    rerun = phase2["re-run computed"]
    print(f"total {time.time() - began:.0f} s; re-run computed {rerun}, missing before it {expected_rerun}")
    print("SOAK", "PASS" if ok else "FAIL")
    if args.keep:
        print(f"runs dir kept: {runs}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
