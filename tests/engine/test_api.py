"""The Python API (engine.api): docs/python-api.md's example runs, and its frames hold the CLI's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import engine
from engine.cli import main
from engine.rows import pct

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def python_blocks(text: str) -> list[str]:
    """The ```python fenced blocks of a markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture(scope="module")
def doc_namespace(tmp_path_factory):
    """Execute the doc's blocks in order, in one namespace, in a runs dir of their own."""
    runs_dir = tmp_path_factory.mktemp("doc_runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STOCKRNN_RUNS_DIR", str(runs_dir))
        namespace: dict = {"__name__": "docs_python_api"}
        blocks = python_blocks(DOC.read_text(encoding="utf-8"))
        assert len(blocks) >= 5
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    namespace["_runs_dir"] = runs_dir
    return namespace


def test_the_docs_example_runs_and_its_yearly_frame_is_what_backtest_show_prints(
    doc_namespace, capsys, monkeypatch
):
    run, yearly = doc_namespace["run"], doc_namespace["yearly"]
    assert isinstance(yearly, pl.DataFrame) and yearly.columns == [
        "year",
        "partial",
        "ma-trend",
        "buy-and-hold",
    ]
    monkeypatch.setenv("STOCKRNN_RUNS_DIR", str(doc_namespace["_runs_dir"]))
    code, shown, err = cli(capsys, "show", run.run_id)
    assert code in (0, None), err
    rows = {
        cells[0].rstrip("*"): cells[1:]
        for line in shown.splitlines()
        if re.match(r"^[│|] \d{4}", line)
        for cells in [[c.strip() for c in line.strip("│| ").split("│")]]
    }
    assert list(rows) == [str(y) for y in yearly["year"]]
    for row in yearly.iter_rows(named=True):
        assert rows[str(row["year"])] == [pct(row["ma-trend"]), pct(row["buy-and-hold"])]
    # and exactly the stored JSON's numbers, not only to two decimals
    code, out, _ = cli(capsys, "show", run.run_id, "--json")
    import json

    payload = json.loads(out)
    assert payload == run.to_dict()
    assert yearly["ma-trend"].to_list() == list(payload["strategies"][0]["yearly"].values())


def test_frames_match_the_in_memory_result(doc_namespace):
    run = doc_namespace["run"]
    result = run.simulated  # the in-memory arrays (engine.pipeline.results.SimulatedRun)
    strategy = result.strategies[0]
    curve = run.equity().filter(pl.col("strategy") == strategy.name).sort("date")
    assert np.array_equal(curve["equity"].to_numpy(), strategy.equity[:, 0])
    assert curve["date"].to_numpy().astype("datetime64[D]").tolist() == result.dates.tolist()
    summary = run.summary()
    assert summary["name"].to_list() == ["ma-trend", "buy-and-hold"]
    assert summary["cagr"][0] == float(strategy.metrics.cagr[0])
    weights = run.weights().filter(pl.col("role") == "strategy")
    decided = ~np.all(np.isnan(strategy.targets), axis=2)[:, 0]
    assert weights.height == int(decided.sum())
    evidence = run.evidence()
    assert evidence["strategy"].to_list() == ["ma-trend"]
    assert evidence["mean_excess_cagr"][0] == run.payload["evidence"]["ma-trend"]["mean_excess_cagr"]
    assert run.failed == {} and run.seeds().height == 0  # deterministic strategy: no seed rows


def test_runs_lists_the_doc_runs_newest_first(doc_namespace):
    listed = engine.runs(runs_dir=doc_namespace["_runs_dir"])
    ids = {doc_namespace["run"].run_id, doc_namespace["costly"].run_id}
    assert ids <= set(listed["run_id"]) and set(listed["status"]) == {"complete"}
    # newest first by recorded creation time (run ids of one second need not sort that way)
    assert listed["created"].to_list() == sorted(listed["created"], reverse=True)
    # figures are fractions, as the API promises everywhere (issue 29), not "4.59%"
    assert listed.schema["cagr"] == pl.Float64 and abs(listed["cagr"][0]) < 1


def test_seeds_frame_of_a_stochastic_strategy(tmp_path):
    run = engine.run(
        strategies=["tests/fixtures/leaky.py:HonestOnline"],
        seeds=(3, 5),
        start="2021-01-01",
        runs_dir=tmp_path,
    )
    seeds = run.seeds()
    assert seeds["seed"].to_list() == ["3", "5"]
    assert run.summary()["cagr"][0] == pytest.approx(float(np.mean(seeds["cagr"].to_numpy())))


def test_make_config_conveniences():
    config = engine.make_config(
        strategies={"ma-trend": {"window": 20}}, seeds=3, tickers="^GSPC", start="2020-01-02"
    )
    assert config.seeds == (0, 1, 2) and config.tickers == ("^GSPC",)
    assert config.strategies[0].name == "ma-trend" and config.strategies[0].params == {"window": 20}
    varied = engine.make_config(
        config, cost_bps=20, strategies=["ma-trend", ("momentum-annual", {"top_k": 2})]
    )
    assert varied.cost_bps == 20 and varied.seeds == (0, 1, 2)
    assert [s.name for s in varied.strategies] == ["ma-trend", "momentum-annual"]


def test_a_strategy_named_twice_is_refused():
    from feeds.errors import InputError

    with pytest.raises(InputError, match="ma-trend is given twice"):
        engine.make_config(strategies=[("ma-trend", {"window": 20}), ("ma-trend", {"window": 50})])


def test_load_names_a_missing_run(tmp_path):
    from feeds.errors import InputError

    with pytest.raises(InputError, match="no complete runs"):
        engine.load(runs_dir=tmp_path)


def test_audit_finds_a_leak():
    report = engine.audit_strategy("tests/fixtures/leaky.py:PeekTomorrow", start="2019-01-01")
    assert not report.passed and report.first_leak


def test_package_exports_are_explicit_and_sorted():
    assert engine.__all__ == sorted(engine.__all__)
    for name in engine.__all__:
        assert getattr(engine, name) is not None
    assert engine.__version__


def test_packages_ship_their_type_hints():
    import tomllib

    root = DOC.parents[1]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package in ("engine", "feeds", "strategies"):
        assert (root / package / "py.typed").is_file()
        assert "py.typed" in package_data[package]
