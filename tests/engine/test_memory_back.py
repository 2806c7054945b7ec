"""Memory given back (benchmarks/memory_bench.py at small sizes): dashboard jobs and a sweep driver."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "memory_bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("memory_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_rss_flat_after_jobs_and_cells(tmp_path) -> None:
    bench = _bench()
    jobs = bench.dashboard_jobs(4, "ma-trend", tmp_path / "dash", "2018-01-01")
    assert jobs["ratio"] <= 1 + bench.TOLERANCE, jobs
    sweep = bench.sweep_driver(4, "ma-trend", tmp_path / "sweep", "2018-01-01")
    assert sweep["ratio"] <= 1 + bench.TOLERANCE, sweep
