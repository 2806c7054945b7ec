"""Checks before work: a sweep's cell count is computed from its axes before anything is expanded.

Issue 23: a spec of a million cells kept expanding for 30 s (2 GB RSS) with no word.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.config.sweep_spec import MAX_CELLS, cell_count, check_cell_count, expand, load_spec
from engine.store.run_store import RunStore
from engine.workflows.sweep import run_sweep
from feeds.errors import InputError


def big_spec(tmp_path: Path, windows: int = 1000, shorts: int = 1000, extra: str = "") -> Path:
    path = tmp_path / "big.toml"
    path.write_text(
        f'name = "big"\ndata = "sample"\nseeds = 3\n{extra}'
        "[[strategies]]\n"
        'name = "ma-trend"\n'
        f"grid = {{ window = {list(range(2, 2 + windows))}, short = {list(range(1, 1 + shorts))} }}\n"
    )
    return path


def test_the_count_is_the_product_of_the_axes(tmp_path: Path) -> None:
    spec = load_spec(
        big_spec(
            tmp_path, 3, 4, extra='periods = [["2012-01-01", "2014-12-31"], ["2015-01-01", "2015-12-31"]]\n'
        )
    )
    assert cell_count(spec) == 3 * 4 * 2
    second = spec.model_copy(update={"strategies": [*spec.strategies, spec.strategies[0]]})
    assert cell_count(second) == 2 * 24  # summed over strategies (duplicates merged only by expand)


def test_a_million_cells_are_refused_in_under_a_second(tmp_path: Path) -> None:
    spec = load_spec(big_spec(tmp_path))
    began = time.perf_counter()
    with pytest.raises(InputError) as info:
        expand(spec)
    assert time.perf_counter() - began < 1.0
    message = str(info.value)
    assert "1,000,000 cells" in message and f"{MAX_CELLS:,}" in message
    assert "--max-cells 1000000" in message and "\n" not in message
    with pytest.raises(InputError, match="1,000,000 cells"):
        run_sweep(spec, RunStore(tmp_path / "runs"))  # the API checks the same way
    assert not (tmp_path / "runs").exists()  # refused before any work, nothing stored


def test_the_cli_refuses_with_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = big_spec(tmp_path)
    began = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(path)])
    elapsed = time.perf_counter() - began
    err = capsys.readouterr().err
    assert info.value.code == 2 and elapsed < 5.0  # loading the spec included
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "1,000,000 cells" in lines[0] and "--max-cells" in lines[0]


def test_the_flag_goes_beyond_the_limit(tmp_path: Path) -> None:
    spec = load_spec(big_spec(tmp_path, 20, 10))
    with pytest.raises(InputError, match="200 cells"):
        check_cell_count(spec, max_cells=100)
    assert check_cell_count(spec, max_cells=200) == 200
    assert len(expand(spec, max_cells=None)) == 200


def test_too_many_seeds_are_refused_before_a_range_is_built(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\nseeds = 1000000000\n[[strategies]]\nname = "ma-trend"\n')
    began = time.perf_counter()
    with pytest.raises(InputError, match="1000000000 seeds"):
        expand(load_spec(path))
    assert time.perf_counter() - began < 1.0
