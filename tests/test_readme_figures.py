"""README's "Where it stands" table is what the code prints now (benchmarks/where_it_stands.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_where_it_stands_rows_are_what_the_runs_give(tmp_path):
    script = ROOT / "benchmarks" / "where_it_stands.py"
    spec = importlib.util.spec_from_file_location("where_it_stands", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (ROOT / "README.md").read_text()
    for row in module.rows(runs_dir=str(tmp_path)):
        assert row in readme, f"README's table is stale; python benchmarks/where_it_stands.py prints:\n{row}"
