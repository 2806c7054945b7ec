"""The rows layer (engine.rows) against the run's JSON numbers, read independently by key.

Every surface formats these rows, so each figure in them is checked here against
the JSON form a run writes (``metrics.json``, ``--json``), not against the typed
model they are read through.
"""

from __future__ import annotations

import json
import re

import pytest
from rich.text import Text

from engine import rows
from engine.cli import report
from engine.config.run_config import RunConfig, StrategySpec
from engine.dashboard import tables
from engine.pipeline.prepare import prepare
from engine.store.result_schema import RunResult, load_result, parse_result
from engine.store.run_store import RunStore
from engine.workflows.record import run_and_store
from feeds.errors import InputError
from tests.conftest import random_walk_market, write_yahoo_csv


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rows")
    store = RunStore(tmp / "runs")
    csv = write_yahoo_csv(tmp / "AAA.csv", random_walk_market(n=700, seed=11))
    config = RunConfig(
        data=f"csv:{csv}",
        end="2017-06-30",
        seeds=(1, 2, 3),
        strategies=(
            StrategySpec(name="ma-trend", params={"window": 20}),
            StrategySpec(name="tests/fixtures/leaky.py:HonestOnline"),
        ),
    )
    result = run_and_store(prepare(config), store)
    return store, result.to_dict()


def entries(payload):
    return [*payload["strategies"], *payload["benchmarks"]]


def test_the_typed_result_is_the_json_form(stored):
    store, payload = stored
    result = parse_result(payload)
    assert isinstance(result, RunResult)
    assert parse_result(result) is result
    # read back from disk independently of the store's reader: the same values
    on_disk = json.loads((store.root / payload["run_id"] / "metrics.json").read_text(encoding="utf-8"))
    assert load_result(payload["run_id"], runs_dir=store.root) == parse_result(on_disk) == result
    assert [e.name for e in result.entries] == [e["name"] for e in entries(payload)]


def test_a_payload_that_does_not_fit_is_one_clear_input_error(stored):
    _, payload = stored
    damaged = {**payload, "benchmark": {**payload["benchmark"], "cagr": "7%"}}
    with pytest.raises(
        InputError, match=r"^run \S+: results do not fit the run-result schema: benchmark\.cagr: "
    ):
        parse_result(damaged)
    with pytest.raises(InputError, match="period: Field required"):
        parse_result({k: v for k, v in payload.items() if k != "period"})


def test_summary_rows_hold_the_json_numbers(stored):
    _, payload = stored
    bench = payload["benchmark"]["cagr"]
    want = []
    for e in entries(payload):
        spread = e["aggregate"] if e["stochastic"] else None
        want.append((e["name"], e["role"], e["cagr"], e["cagr"] - bench, spread, e["sharpe"], e["exposure"]))
        if e.get("ensemble"):
            f = e["ensemble"]
            want.append(
                (
                    f"{e['name']} ensemble",
                    e["role"],
                    f["cagr"],
                    f["cagr"] - bench,
                    None,
                    f["sharpe"],
                    f["exposure"],
                )
            )
    got = [
        (r.name, r.role, r.cagr, r.excess, r.spread and r.spread.model_dump(), r.sharpe, r.exposure)
        for r in rows.summary_rows(parse_result(payload))
    ]
    assert got == want
    assert any(w[4] for w in want)  # the seeded strategy's spread is in the table
    primary = [r for r in rows.summary_rows(parse_result(payload)) if r.primary]
    assert [r.name for r in primary] == [payload["benchmark"]["name"]]


def test_seed_and_yearly_rows_hold_the_json_numbers(stored):
    _, payload = stored
    result = parse_result(payload)
    bench = payload["benchmark"]["cagr"]
    for entry, typed in zip(payload["strategies"], result.strategies, strict=True):
        got = [(r.seed, r.cagr, r.sharpe, r.max_drawdown, r.excess) for r in rows.seed_rows(typed, bench)]
        want = [
            (s["seed"], s["cagr"], s["sharpe"], s["max_drawdown"], s["cagr"] - bench)
            for s in entry.get("seeds", [])
        ]
        assert got == want
    years = rows.years(result)
    assert [y.year for y in years] == list(payload["benchmark"]["yearly"])
    assert [int(y.year) for y in years if y.partial] == payload["benchmark"]["partial_years"]
    columns = rows.yearly_columns(result)
    assert [(c.name, c.values) for c in columns] == [(e["name"], e["yearly"]) for e in entries(payload)]


def test_evidence_lines_are_plain_and_the_terminal_only_adds_markup(stored):
    _, payload = stored
    lines = rows.evidence_lines(parse_result(payload))
    assert lines and not any(re.search(r"\[/?(bold|dim)\]", line.plain) for line in lines)
    for name, ev in payload["evidence"].items():
        mean = f"  {name}: mean excess CAGR {rows.pct(ev['mean_excess_cagr'], True)}, "
        assert sum(line.plain.startswith(mean) for line in lines) == 1
    marked = report.evidence_lines(parse_result(payload))
    assert [Text.from_markup(m).plain for m in marked] == [line.plain for line in lines]
    assert tables.evidence_text(parse_result(payload)) == [line.plain for line in lines]


def test_compare_and_ablation_rows_hold_the_json_numbers(stored):
    _, payload = stored
    got = [(r.run_id, r.name, r.cagr, r.excess) for r in rows.compare_rows([parse_result(payload)] * 2)]
    want = [
        (payload["run_id"], e["name"], e["cagr"], None if e["role"] == "benchmark" else e["excess_cagr"])
        for e in entries(payload)
    ] * 2
    assert got == want
    # a run against itself: every seed's difference is 0, seeds paired in order
    ablation = rows.ablation_rows(parse_result(payload), parse_result(payload))
    seeded = next(e for e in payload["strategies"] if e.get("seeds"))
    assert [r.seed for r in ablation if r.strategy == seeded["name"]] == [s["seed"] for s in seeded["seeds"]]
    assert all(r.difference == 0 for r in ablation)
    assert report.ablation(parse_result(payload), parse_result(payload))[0] == {
        "strategy": "ma-trend",
        "seed": "-",
        "with": payload["strategies"][0]["cagr"],
        "without": payload["strategies"][0]["cagr"],
        "difference": 0.0,
    }


def test_dashboard_tables_are_the_rows_in_percent(stored):
    _, payload = stored
    table = tables.metrics_rows(parse_result(payload))
    summary = rows.summary_rows(parse_result(payload))
    assert [t["CAGR %"] for t in table] == [round(r.cagr * 100, 2) for r in summary]
    bench = payload["benchmark"]["cagr"]
    first = payload["strategies"][0]
    assert table[0]["vs benchmark %"] == round((first["cagr"] - bench) * 100, 2)
    assert tables.basis_text(parse_result(payload)) == payload["basis"]["statement"]


def test_formatting_is_shared():
    assert rows.pct(0.1049) == "10.49%" and rows.pct(-0.02, signed=True) == "-2.00%"
    assert rows.pct(None) == rows.num(None) == rows.NA
    assert rows.num(1.234, 1) == "1.2" and rows.percent(0.12345) == 12.35
    assert report.pct is rows.pct and tables.percent is rows.percent
