"""Charts and tables of stored runs: labels, log ticks, derived series checked independently."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from engine.config import RunConfig, StrategySpec
from engine.dashboard import views
from engine.result_schema import parse_result
from engine.runner import prepare, run_and_store
from engine.store import RunStore
from tests.conftest import random_walk_market, write_yahoo_csv


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("views")
    runs = RunStore(tmp / "runs")
    csv = write_yahoo_csv(tmp / "IDX.csv", random_walk_market(n=700, tickers=("IDX",), seed=4))
    config = RunConfig(
        data=f"csv:{csv}",
        strategies=(StrategySpec(name="ma-trend", params={"window": 20}),),
        start=None,
    )
    result = run_and_store(prepare(config), runs)
    payload = result.to_dict()
    return parse_result(payload), runs.load_equity(result.run_id), runs.load_weights(result.run_id), payload


def test_log_ticks_step_1_2_5_and_label_whole_values():
    ticks, text = views.log_ticks(0.8, 60)
    assert ticks == [1, 2, 5, 10, 20, 50]
    assert text == ["1", "2", "5", "10", "20", "50"]
    ticks, text = views.log_ticks(1, 1e6)  # long spans: one tick per decade, no crowding
    assert ticks == [1, 10, 100, 1000, 10000, 100000, 1000000] and text[4] == "10,000"
    ticks, text = views.log_ticks(0.9, 2.9)  # short spans: finer steps, still at least 4 ticks
    assert text == ["1", "1.5", "2", "3"]


def test_monthly_returns_match_an_independent_resample(stored):
    result, equity, _, _ = stored
    item = views.series(result, equity)[0]
    table = views.monthly_returns(item["dates"], item["values"])
    s = pd.Series(item["values"], index=pd.to_datetime(item["dates"]))
    ends = s.groupby(s.index.to_period("M")).last()
    want = ends / ends.shift(1, fill_value=1.0) - 1
    got = {(p.year, p.month): table[p.year][p.month - 1] for p in want.index}
    assert got == pytest.approx({(p.year, p.month): v for p, v in want.items()}, rel=1e-12)
    years = (item["values"][-1]) / 1.0
    compounded = np.prod([1 + v for row in table.values() for v in row if v is not None])
    assert compounded == pytest.approx(years, rel=1e-12)


def test_worst_drawdown_equals_the_stored_max_drawdown(stored):
    result, equity, _, _ = stored
    for item, entry in zip(views.series(result, equity), result.entries, strict=True):
        rows = views.drawdown_periods(item["dates"], item["values"])
        assert rows[0]["depth %"] == pytest.approx(entry.max_drawdown * 100, abs=0.006)
        assert [r["depth %"] for r in rows] == sorted(r["depth %"] for r in rows)


def test_labels_are_consistent_and_benchmarks_say_what_they_hold(stored):
    result, equity, weights, _ = stored
    labels = [s["label"] for s in views.series(result, equity)]
    assert labels == ["ma-trend", "buy-and-hold IDX"]
    rows = views.metrics_rows(result)
    assert [r["strategy"] for r in rows] == labels
    assert rows[1]["vs benchmark %"] is None and rows[0]["± std %"] is None  # "—" on the page
    annual = result.benchmark.model_copy(
        update={"role": "benchmark", "name": "buy-and-hold", "tickers": [f"S{i}" for i in range(20)]}
    )
    assert views.display_name(annual) == "equal-weight buy-and-hold of 20 stocks"
    assert views.cost_rows(result, weights)[0]["turnover /yr"] == round(result.strategies[0].turnover, 2)


def test_partial_years_are_marked_in_the_table_and_every_year_is_labelled(stored):
    result, _, _, _ = stored
    partial = result.benchmark.partial_years
    assert partial
    years = [r["year"] for r in views.yearly_rows(result)]
    assert all(y.endswith("*") == (int(y.rstrip("*")) in partial) for y in years)
    fig = views.yearly_figure(result)
    assert list(fig.layout.xaxis.tickvals) == years


def test_compare_rebases_every_curve_at_the_latest_common_start(stored):
    result, equity, _, _ = stored
    late = equity.filter(equity["date"] >= equity["date"].unique().sort()[100])
    start, items = views.compare_series([("run-a", result, equity), ("run-b", result, late)])
    assert str(start) == str(late["date"].min())
    assert all(str(s["dates"][0]) == str(start) and s["values"][0] == 1.0 for s in items)
    assert len(views.compare_drawdown_figure([("run-a", result, equity)]).data) == 2
    benches = [s for s in items if s["role"] == "benchmark"]
    assert len(benches) == 1  # the same benchmark of the same data is drawn once
    costly = result.model_copy(update={"config": result.config.model_copy(update={"cost_bps": 9.0})})
    rows = views.param_diff_rows([result, costly], ["a", "b"])
    assert rows == [{"setting": "cost_bps", "a": "5", "b": "9"}]


def test_tearsheet_html_is_self_contained(stored):
    result, equity, weights, payload = stored
    page = views.tearsheet_html(result, equity, weights)
    embedded = re.search(r"id='metrics'>(.*?)</script>", page).group(1)
    assert json.loads(html.unescape(embedded)) == payload  # the typed dump: metrics.json values
    stored_form = views.tearsheet_html(result, equity, weights, label="mine", json_form=payload)
    assert "<h1>Run " + payload["run_id"] + ": mine</h1>" in stored_form
    embedded = re.search(r"id='metrics'>(.*?)</script>", stored_form).group(1)
    assert html.unescape(embedded) == json.dumps({**payload, "label": "mine"})  # as stored, key order too
    assert page.startswith("<!doctype html>")
    assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js inlined, nothing fetched: opens offline
    assert "Worst drawdowns" in page and "Monthly returns" in page and payload["run_id"] in page
