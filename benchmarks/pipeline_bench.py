"""Stock-RNN benchmark: end-to-end time of ``backtest`` commands, with a breakdown by stage.

Each command runs in a fresh process (as a user would start it), twice: the
first run may compile or load numba kernels into a cold cache; the second is
the warm machine the goals are stated for. Reported: wall seconds and CPU
seconds (user + system of the child, less disturbed by other load on the
machine), and for ``run`` commands a breakdown measured inside the process by
wrapping the engine's stages (imports until the command starts, data loading,
strategy targets, simulation, metrics and evidence, writing the store, the
report). Commands:

- ``backtest run --strategy lstm-stateful`` (10 seeds, the bundled sample; goal <= 6 s warm)
- ``backtest run`` (ma-trend against buy-and-hold; goal <= 4 s)
- ``backtest --help`` and ``backtest runs`` (should import nothing heavy)

Usage: ``python benchmarks/pipeline_bench.py [--repeat N] [--before DIR]``. Runs
go to a temporary runs dir. ``--before DIR``: another checkout of the project
(e.g. ``git archive <commit> | tar -x -C DIR``), timed side by side, command by
command, in the same run. Pin to one core with ``taskset -c 0`` for one-core figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "run lstm-stateful": ["run", "--strategy", "lstm-stateful"],
    "run (ma-trend)": ["run"],
    "--help": ["--help"],
    "runs": ["runs"],
}
STAGES = (
    "imports",
    "resolve strategies",
    "load data",
    "strategy targets",
    "simulation",
    "metrics + evidence",
    "store",
    "report",
)


def child(argv: list[str]) -> None:
    """Run ``backtest ARGV`` in this process with the stages timed; print them as JSON on stderr."""
    t0, c0 = time.perf_counter(), time.process_time()
    times: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    from engine import cli

    times["imports"], cpu["imports"] = (
        time.perf_counter() - t0,
        time.process_time() - c0,
    )  # the CLI module; lazy imports count in their stage
    if argv and argv[0] == "run":
        import engine.cli.report
        import engine.pipeline.runner
        import engine.store.run_store

        def timed(owner: object, name: str, stage: str) -> None:
            original = getattr(owner, name)

            def wrapper(*args: object, **kwargs: object) -> object:
                start, start_cpu = time.perf_counter(), time.process_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    times[stage] += time.perf_counter() - start
                    cpu[stage] += time.process_time() - start_cpu

            setattr(owner, name, wrapper)

        import strategies.registry

        timed(strategies.registry, "resolve", "resolve strategies")  # imports torch for the LSTMs
        try:  # engine.pipeline.prepare since the runner's split; engine.pipeline.runner in older trees
            import engine.pipeline.prepare as preparing
        except ImportError:
            preparing = engine.pipeline.runner
        timed(preparing, "prepare", "load data")
        timed(engine.pipeline.runner, "generate_targets", "strategy targets")
        timed(engine.pipeline.runner, "simulate", "simulation")
        timed(engine.pipeline.runner, "compute_metrics", "metrics + evidence")
        timed(engine.pipeline.runner, "_evidence", "metrics + evidence")
        # writing the files (named commit in trees before the store's one writer, RunStore.record)
        writer = "_commit" if hasattr(engine.store.run_store.RunStore, "_commit") else "commit"
        timed(engine.store.run_store.RunStore, writer, "store")
        timed(engine.cli.report, "render_run", "report")
    try:
        cli.main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        times["total"], cpu["total"] = time.perf_counter() - t0, time.process_time() - c0
        print("STAGES " + json.dumps({"wall": times, "cpu": cpu}), file=sys.stderr)


def measure(argv: list[str], runs_dir: str, root: Path = ROOT) -> tuple[float, float, dict[str, float]]:
    """(wall s, CPU s of the child, stage times) of one fresh-process run of the code in ``root``."""
    args = [*argv, "--runs-dir", runs_dir] if argv[0] in ("run", "runs") else argv
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(args)], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stages = {}
    for line in proc.stderr.splitlines():
        if line.startswith("STAGES "):
            stages = json.loads(line[7:])
    return wall, cpu, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=2, help="fresh-process runs per command (first may be cold)"
    )
    parser.add_argument("--before", type=Path, help="another checkout to time side by side")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    cores = sorted(os.sched_getaffinity(0))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, this process may use {cores}")
    with tempfile.TemporaryDirectory() as runs_dir:
        for name, argv in COMMANDS.items():
            if args.before:
                with tempfile.TemporaryDirectory() as before_runs:
                    for i in range(args.repeat):
                        wall, cpu, _ = measure(argv, before_runs, args.before.resolve())
                        label = "cold?" if i == 0 else "warm "
                        print(f"BEFORE   {name:18s} [{label}] wall {wall:6.2f} s   CPU {cpu:6.2f} s")
            for i in range(args.repeat):
                wall, cpu, stages = measure(argv, runs_dir)
                label = "cold?" if i == 0 else "warm "
                print(f"backtest {name:18s} [{label}] wall {wall:6.2f} s   CPU {cpu:6.2f} s")
                if stages and argv[0] == "run":
                    for kind in ("cpu", "wall"):
                        got = stages[kind]
                        parts = ", ".join(f"{s} {got[s]:.2f}" for s in STAGES)
                        other = got["total"] - sum(got[s] for s in STAGES)
                        total = got["total"]
                        print(f"    {kind:4s} s by stage: {parts}, other {other:.2f}; in process {total:.2f}")


if __name__ == "__main__":
    main()
