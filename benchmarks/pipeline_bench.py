"""Stock-RNN benchmark: end-to-end time of ``backtest`` commands, with a breakdown by stage.

Each command runs in a fresh process (as a user would start it), twice: the
first run may compile or load numba kernels into a cold cache; the second is
the warm machine the goals are stated for. Reported: wall seconds and CPU
seconds (user + system of the child, less disturbed by other load on the
machine), and for ``run`` commands a breakdown measured inside the process by
wrapping the engine's stages (imports until the command starts, data loading,
strategy targets, simulation, metrics and evidence, writing the store, the
report). Commands:

- ``backtest run --strategy lstm-stateful`` (10 seeds, the bundled sample; issue 28: >= 18x the anchor, warm)
- ``backtest run`` (ma-trend against buy-and-hold; goal <= 2 s)
- ``backtest run --strategy transformer`` (10 seeds, walk-forward; ``--only lstm`` skips it)
- ``backtest --help`` and ``backtest runs`` (should import nothing heavy)

Usage: ``python benchmarks/pipeline_bench.py [--repeat N] [--before DIR] [--anchor-days N]
[--only NAME]``. Runs go to a temporary runs dir. ``--before DIR``: another checkout
of the project (e.g. ``git archive <commit> | tar -x -C DIR``), timed side by side, the
two alternating run by run. ``--anchor-days``: also time the naive anchor of issue 28
(ten ``torch.nn.LSTM`` stepped one after another, ``benchmarks/lstm_bench.py``) in a
fresh process and print each lstm-stateful run's ratio to it (wall and CPU). Pin to
one core with ``taskset -c 0`` for one-core figures.
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
    "run transformer": ["run", "--strategy", "transformer"],
    "--help": ["--help"],
    "runs": ["runs"],
}
STAGES = (
    "imports",
    "resolve strategies",
    "load data",
    "warm-up wait",
    "strategy targets",
    "simulation",
    "metrics + evidence",
    "store",
    "report",
)


def child(argv: list[str]) -> None:
    """Run ``backtest ARGV`` in this process as the console script does (``main()`` reading
    ``sys.argv``, its own exit), the stages timed; print them as JSON on stderr before the exit."""
    t0, c0 = time.perf_counter(), time.process_time()
    times: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    from engine import cli

    times["imports"], cpu["imports"] = (
        time.perf_counter() - t0,
        time.process_time() - c0,
    )  # the CLI module; lazy imports count in their stage
    if not (argv and argv[0] == "run" and _time_stages(times, cpu)):
        for stage in STAGES[1:]:  # not a run, or an older tree: no zeros shown as stages
            del times[stage], cpu[stage]
    reported: list[bool] = []

    def report() -> None:
        if not reported:
            reported.append(True)
            times["total"], cpu["total"] = time.perf_counter() - t0, time.process_time() - c0
            print("STAGES " + json.dumps({"wall": times, "cpu": cpu}), file=sys.stderr, flush=True)

    end = getattr(cli, "_end_process", None)  # trees since the CLI ends its own process
    if end is not None:

        def ending(code: int) -> None:
            report()
            end(code)

        cli._end_process = ending
    sys.argv = ["backtest", *argv]
    try:
        cli.main()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        report()


def _time_stages(times: dict[str, float], cpu: dict[str, float]) -> bool:
    """Wrap the engine's stage functions so that their wall and CPU seconds add up in ``times``/``cpu``.

    A tree from before ``engine/`` had its rooms (``--before`` with older code) is timed end to end
    only: asking it for ``engine.pipeline`` would import this checkout's modules through its
    editable install and mix the two trees. Returns whether the stages are timed.
    """
    import engine

    if not (Path(engine.__file__).parent / "pipeline" / "runner.py").is_file():
        return False
    import engine.cli.report
    import engine.pipeline.runner
    import engine.store.run_store

    def timed(owner: object, name: str, stage: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # a tree without this function
            return

        def wrapper(*args: object, **kwargs: object) -> object:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                times[stage] += time.perf_counter() - start
                cpu[stage] += time.process_time() - start_cpu

        setattr(owner, name, wrapper)

    import strategies.registry

    timed(strategies.registry, "resolve", "resolve strategies")  # imports the strategy modules
    try:  # engine.pipeline.prepare since the runner's split; engine.pipeline.runner in older trees
        import engine.pipeline.prepare as preparing
    except ImportError:
        preparing = engine.pipeline.runner
    timed(preparing, "load_data", "load data")  # the market (prepare calls it by its module name)
    timed(preparing, "_finish_warm_ups", "warm-up wait")  # numba kernels loaded in threads
    timed(engine.pipeline.runner, "generate_targets", "strategy targets")
    timed(engine.pipeline.runner, "simulate", "simulation")
    timed(engine.pipeline.runner, "compute_metrics", "metrics + evidence")
    timed(engine.pipeline.runner, "_evidence", "metrics + evidence")
    # writing the files (named commit in trees before the store's one writer, RunStore.record)
    writer = "_commit" if hasattr(engine.store.run_store.RunStore, "_commit") else "commit"
    timed(engine.store.run_store.RunStore, writer, "store")
    timed(engine.cli.report, "render_run", "report")
    return True


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


ANCHOR = """
import json, sys, time
sys.path.insert(0, {bench!r})
import lstm_bench
import torch
if {threads}:
    torch.set_num_threads({threads})
from feeds.sources import DataSpec, load_market
market = load_market(DataSpec.parse("sample")).select(["^GSPC"])
days = {days} or market.n_days
cpu = time.process_time()
wall, _ = lstm_bench.loop(market, days)
scale = market.n_days / days
print(json.dumps({{"wall": wall * scale, "cpu": (time.process_time() - cpu) * scale, "days": days}}))
"""


def anchor(days: int, threads: int = 0) -> tuple[float, float]:
    """(wall s, CPU s) of the naive anchor, in a fresh process: ten ``torch.nn.LSTM`` + ``nn.Linear``
    stepped one after another over the sample's ^GSPC days (``benchmarks/lstm_bench.py``'s loop);
    ``days`` > 0 times a prefix and scales linearly; ``threads`` > 0 sets torch's threads (0: its
    default, as lstm_bench runs it; on a machine busy with other work its threads wait on each
    other, and one thread gives the steadier figure)."""
    code = ANCHOR.format(bench=str(ROOT / "benchmarks"), days=days, threads=threads)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    got = json.loads(proc.stdout.splitlines()[-1])
    return got["wall"], got["cpu"]


def show(
    who: str, name: str, i: int, measured: tuple[float, float, dict], base: tuple[float, float] | None
) -> None:
    """One line per run (wall, CPU, ratios to the anchor), and the stage breakdown of ``run`` commands."""
    wall, cpu, stages = measured
    label = "cold?" if i == 0 else "warm "
    ratio = f"   anchor/this {base[0] / wall:5.1f}x wall, {base[1] / cpu:5.1f}x CPU" if base else ""
    print(f"{who:8s} {name:18s} [{label}] wall {wall:6.2f} s   CPU {cpu:6.2f} s{ratio}")
    if not stages:
        return
    for kind, whole in (("cpu", cpu), ("wall", wall)):
        got = stages[kind]
        parts = ", ".join(f"{s} {got[s]:.2f}" for s in STAGES if s in got)
        other = got["total"] - sum(got.get(s, 0.0) for s in STAGES)
        outside = whole - got["total"]
        print(
            f"    {kind:4s} s by stage: {parts}, other {other:.2f}; in process {got['total']:.2f}, "
            f"interpreter start + exit {outside:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=2, help="fresh-process runs per command (first may be cold)"
    )
    parser.add_argument("--before", type=Path, help="another checkout to time side by side")
    parser.add_argument(
        "--anchor-days", type=int, default=-1, help="time the naive anchor on N days (0: all; -1: skip)"
    )
    parser.add_argument(
        "--anchor-threads", type=int, default=0, help="torch threads of the anchor (0: default)"
    )
    parser.add_argument("--only", help="time only the commands whose name contains this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    cores = sorted(os.sched_getaffinity(0))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, this process may use {cores}")
    base = None
    if args.anchor_days >= 0:
        base = anchor(args.anchor_days, args.anchor_threads)
        print(
            f"anchor (10 nn.LSTM one after another, torch threads {args.anchor_threads or 'default'}, "
            f"scaled to 8,313 days): wall {base[0]:6.2f} s   CPU {base[1]:6.2f} s"
        )
    commands = {k: v for k, v in COMMANDS.items() if not args.only or args.only in k}
    with tempfile.TemporaryDirectory() as runs_dir, tempfile.TemporaryDirectory() as before_runs:
        for name, argv in commands.items():
            ratio = base if argv[-1] == "lstm-stateful" else None
            for i in range(args.repeat):  # before and after alternate: the same load on both
                if args.before:
                    show("BEFORE", name, i, measure(argv, before_runs, args.before.resolve()), ratio)
                show("backtest", name, i, measure(argv, runs_dir), ratio)


if __name__ == "__main__":
    main()
