"""Sweep throughput: the same sweep with 1 and 2 local workers and on a local Ray instance with 2 CPUs.

The sweep: lstm-stateful and lstm-stateless x 4 losses (grad_mode none, so the
losses differ), 3 seeds each, hidden 16, on the bundled S&P 500 sample from
2005 (8 cells). Each configuration runs into its own fresh runs directory, one
after the other in one process; cells per minute and parallel efficiency
(throughput with N workers / (N x throughput with 1)) are printed, and the cells
of every configuration are checked to be identical to those of the first.

Usage: ``python benchmarks/sweep_bench.py [--no-ray]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from engine.store.run_store import RunStore
from engine.workflows.sweep import completed_cells, run_sweep

SPEC = {
    "name": "bench",
    "data": "sample",
    "seeds": 3,
    "periods": [["2005-01-01", "2022-12-31"]],
    "strategies": [
        {
            "name": name,
            "params": {"hidden": 16, "warmup_years": 3.0, "grad_mode": "none"},
            "grid": {"loss": ["mse", "linex", "huber", "smooth_l1"]},
        }
        for name in ("lstm-stateful", "lstm-stateless")
    ],
}


def payloads(store: RunStore) -> dict[str, dict]:
    out = {}
    for key, run_id in completed_cells(store, "bench").items():
        payload = store.load_metrics(run_id)[1]
        payload.pop("run_id")
        out[key] = payload
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    configs = [("local", 1), ("local", 2)] + ([] if args.no_ray else [("ray", 2)])
    results = {}
    reference = None
    for executor, workers in configs:
        store = RunStore(Path(tempfile.mkdtemp(prefix=f"sweep-bench-{executor}{workers}-")))
        outcome = run_sweep(SPEC, store, executor=executor, workers=workers)
        rate = len(outcome.done) / outcome.seconds * 60
        results[(executor, workers)] = rate
        cells = payloads(store)
        same = reference is None or cells == reference
        reference = reference or cells
        print(
            f"{executor:5} {workers} worker(s): {len(outcome.done)} cells in {outcome.seconds:6.1f} s = "
            f"{rate:5.1f} cells/min; identical to the first: {same}"
        )
    base = results[("local", 1)]
    for (executor, workers), rate in results.items():
        if workers > 1:
            speedup = rate / base
            efficiency = speedup / workers
            print(f"parallel efficiency {executor} x{workers}: {efficiency:.2f} (speed-up {speedup:.2f}x)")


if __name__ == "__main__":
    main()
