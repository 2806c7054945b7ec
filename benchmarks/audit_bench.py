"""Stock-RNN benchmark: ``backtest audit lstm-stateful`` (8 cuts, 18 passes), wall and CPU, by stage.

The command runs in a fresh process, as a user would start it, ``--repeat`` times
(the first may load numba kernels into a cold cache). Reported per run: wall seconds,
CPU seconds (user + system of the command and every process it started: the passes
are waited for, so their time counts), the load average before and after (the machine
may be shared: wall time depends on it, CPU time much less), and a breakdown measured
inside the process by wrapping the audit's stages:

- ``imports``: the CLI module; ``resolve strategy``: importing the strategy's module (torch
  for the LSTMs) in the command's own process; ``prepare``: loading and checking the data;
- ``fork server start``: the per-audit server importing torch, numba and the engine and
  loading the cached kernels (absent in trees without it);
- ``full data, twice``: the two determinism passes (run side by side);
- ``cut passes``: the truncated and replaced passes of the 8 cuts;
- ``pass wall``: per pass, the seconds from handing it over to having its result, with the
  days it drove (a truncated pass drives its cut's days, a replaced one drives up to its cut).

Usage: ``python benchmarks/audit_bench.py [--repeat N] [--before DIR]``. ``--before DIR``:
another checkout of the project (e.g. ``git archive main | tar -x -C DIR``), timed in the
same run, alternating with this one, so both see the same load.

Measured on the shared 2-core machine (issue 28, goal 4: at most 20 s wall), main before the
fork server vs now, in one run: before 61.5 s wall / 76.3 s CPU, now 13.5 s wall / 17.8 s CPU
at load average ~4; at load 6-8 now took 15-30 s wall (14-21 s CPU), before 142-185 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ["audit", "lstm-stateful", "--replace-seed", "1"]
GOAL_S = 20.0


def child(argv: list[str]) -> None:
    """Run ``backtest ARGV`` in this process with the audit's stages timed; print them as JSON on stderr."""
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    passes: list[tuple[str, int, float]] = []
    from engine import cli

    times["imports"] = time.perf_counter() - t0
    import engine.api
    import engine.workflows.audit as audit
    import engine.workflows.audit_passes as audit_passes

    def timed(owner: object, name: str, stage: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # a stage this tree does not have
            return

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                times[stage] = times.get(stage, 0.0) + time.perf_counter() - start

        setattr(owner, name, wrapper)

    def per_pass(original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            job = next(a for a in args if hasattr(a, "kind"))
            days = job.market.n_days if job.until is None else job.until + 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                passes.append((job.kind, days, time.perf_counter() - start))

        return wrapper

    import strategies.registry

    timed(strategies.registry, "resolve", "resolve strategy")
    timed(engine.api, "prepare", "prepare")
    server = getattr(audit_passes, "ForkServer", None)
    if server is not None:
        timed(server, "__init__", "fork server start")
        server.run = per_pass(server.run)
    audit_passes._in_fresh_process = per_pass(audit_passes._in_fresh_process)
    timed(audit, "_full_twice", "full data, twice")
    timed(audit, "_cut_passes", "cut passes")
    try:
        cli.main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        times["total"] = time.perf_counter() - t0
        print("STAGES " + json.dumps({"wall": times, "passes": passes}), file=sys.stderr)


def measure(root: Path) -> dict[str, Any]:
    """Wall s, CPU s (command and passes) and stages of one fresh-process audit of the code in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(COMMAND)],
        env=env,
        capture_output=True,
        text=True,
        cwd=root,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"backtest {' '.join(COMMAND)} failed in {root}:\n{proc.stderr[-2000:]}")
    stages: dict[str, Any] = {"wall": {}, "passes": []}
    for line in proc.stderr.splitlines():
        if line.startswith("STAGES "):
            stages = json.loads(line[7:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    verdict = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
    return {
        "wall": wall,
        "cpu": cpu,
        "load": (load_before, os.getloadavg()[0]),
        "stages": stages,
        "verdict": verdict,
    }


def show(label: str, m: dict[str, Any]) -> None:
    goal = "met" if m["wall"] <= GOAL_S else "not met"
    print(
        f"{label}: wall {m['wall']:.1f} s (goal <= {GOAL_S:.0f} s: {goal}), CPU {m['cpu']:.1f} s, "
        f"load average {m['load'][0]:.2f} -> {m['load'][1]:.2f}"
    )
    for stage, seconds in m["stages"]["wall"].items():
        print(f"    {stage:<20} {seconds:7.2f} s wall")
    runs = m["stages"]["passes"]
    if runs:
        days = sum(d for _, d, _ in runs)
        print(f"    {len(runs)} passes, {days} days driven in all; per pass (kind, days, wall s):")
        for kind, d, seconds in sorted(runs, key=lambda r: -r[1]):
            print(f"      {kind:<10} {d:6d} {seconds:6.2f}")
    print(f"    {m['verdict'][:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="fresh-process audits per tree")
    parser.add_argument("--before", type=Path, help="another checkout to time side by side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    cores = len(os.sched_getaffinity(0))
    print(f"backtest {' '.join(COMMAND)}; {cores} cores, Python {sys.version.split()[0]}")
    for i in range(args.repeat):
        if args.before is not None:
            show(f"before (run {i + 1})", measure(args.before.resolve()))
        show(f"now (run {i + 1})", measure(ROOT))


if __name__ == "__main__":
    main()
