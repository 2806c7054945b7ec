"""Memory given back by the long-lived processes: the dashboard server's job mechanism and a sweep driver.

Usage: ``python benchmarks/memory_bench.py [--runs 20] [--cells 20] [--strategy ma-trend]``

Dashboard: this process plays the server; it starts ``--runs`` jobs one after
another through :class:`engine.dashboard.jobs.Job` (each a worker child that exits)
and reads its own RSS after the first and after the last. Sweep: this process is the
driver of a 1-cell sweep (the baseline) and then of a ``--cells``-cell sweep (local
executor, one worker). Both must end within 10% of the baseline. On a GPU machine it
also prints ``torch.cuda.memory_reserved`` (0 unless this process touched CUDA).
RSS in MiB from /proc/self/status (Linux).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOLERANCE = 0.10  # the bound: after N jobs within 10% of after the first


def rss_mib() -> float:
    """This process's resident set size [MiB] (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def dashboard_jobs(runs: int, strategy: str, runs_dir: Path, start: str | None = None) -> dict[str, Any]:
    """RSS of this process after the first and after ``runs`` dashboard jobs run to completion."""
    import datetime as dt

    from engine.config.run_config import RunConfig
    from engine.dashboard.jobs import Job

    config = RunConfig(
        strategies=({"name": strategy},),
        seeds=(0,),
        start=dt.date.fromisoformat(start) if start else None,
    )
    after: list[float] = []
    for _ in range(runs):
        job = Job.start(config, runs_dir=runs_dir)
        while (status := job.poll()).state == "running":
            time.sleep(0.1)
        if status.state != "done":
            raise RuntimeError(f"job {job.job_id}: {status.state} {status.error}")
        after.append(rss_mib())
    return {"first": after[0], "last": after[-1], "ratio": after[-1] / after[0], "runs": runs}


def sweep_driver(cells: int, strategy: str, runs_dir: Path, start: str | None = None) -> dict[str, Any]:
    """RSS of this process (the sweep driver) after a 1-cell sweep and after a ``cells``-cell sweep."""
    from engine.store.run_store import RunStore
    from engine.workflows.sweep import run_sweep

    store = RunStore(runs_dir)
    grid = {"window": list(range(20, 20 + 5 * cells, 5))}
    common: dict[str, Any] = {"seeds": 1, **({"periods": [[start, None]]} if start else {})}
    run_sweep({"name": "mem-one", "strategies": [{"name": strategy, "grid": {"window": [19]}}], **common},
              store, workers=1)  # fmt: skip
    first = rss_mib()
    outcome = run_sweep(
        {"name": "mem-many", "strategies": [{"name": strategy, "grid": grid}], **common}, store, workers=1
    )
    if outcome.failed:
        raise RuntimeError(f"{len(outcome.failed)} sweep cells failed")
    last = rss_mib()
    return {"first": first, "last": last, "ratio": last / first, "cells": cells}


def _cuda_reserved() -> str:
    if "torch" not in sys.modules:
        return "torch not loaded in this process"
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU"
    return f"torch.cuda.memory_reserved {torch.cuda.memory_reserved() / 2**20:.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--strategy", default="ma-trend")
    parser.add_argument("--start", default=None, help="first day of data (shorter runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = dashboard_jobs(args.runs, args.strategy, Path(tmp) / "dash", args.start)
        print(
            f"dashboard jobs: RSS after 1 job {jobs['first']:.1f} MiB, after {jobs['runs']} "
            f"{jobs['last']:.1f} MiB (x{jobs['ratio']:.3f}; bound x{1 + TOLERANCE:.2f})"
        )
        sweep = sweep_driver(args.cells, args.strategy, Path(tmp) / "sweep", args.start)
        print(
            f"sweep driver: RSS after a 1-cell sweep {sweep['first']:.1f} MiB, after {sweep['cells']} cells "
            f"{sweep['last']:.1f} MiB (x{sweep['ratio']:.3f}; bound x{1 + TOLERANCE:.2f})"
        )
        print(f"GPU: {_cuda_reserved()}")
    ok = jobs["ratio"] <= 1 + TOLERANCE and sweep["ratio"] <= 1 + TOLERANCE
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
