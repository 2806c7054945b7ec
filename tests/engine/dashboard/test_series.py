"""The curves drawn: labels shared with the tables, runs compared from their common start."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from engine import rows
from engine.dashboard import charts, tables
from engine.dashboard.series import compare_series, series


def test_labels_are_consistent_and_benchmarks_say_what_they_hold(stored):
    result, equity, _, _ = stored
    items = series(result, equity)
    labels = [s.label for s in items]
    assert labels == ["ma-trend", "buy-and-hold IDX"]
    assert [s.role for s in items] == ["strategy", "benchmark"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        items[0].label = "other"  # type: ignore[misc]
    table = tables.metrics_rows(result)
    assert [r["strategy"] for r in table] == labels
    assert table[1]["vs benchmark %"] is None and table[0]["± std %"] is None  # "—" on the page
    annual = result.benchmark.model_copy(
        update={"role": "benchmark", "name": "buy-and-hold", "tickers": [f"S{i}" for i in range(20)]}
    )
    assert rows.display_name(annual) == "equal-weight buy-and-hold of 20 stocks"


def test_compare_rebases_every_curve_at_the_latest_common_start(stored):
    result, equity, _, _ = stored
    late = equity.filter(equity["date"] >= equity["date"].unique().sort()[100])
    start, items = compare_series([("run-a", result, equity), ("run-b", result, late)])
    assert str(start) == str(late["date"].min())
    assert all(str(s.dates[0]) == str(start) and s.values[0] == 1.0 for s in items)
    assert {s.run for s in items} == {"run-a", "run-b"}
    assert len(charts.compare_drawdown_figure([("run-a", result, equity)]).data) == 2
    benches = [s for s in items if s.role == "benchmark"]
    assert len(benches) == 1  # the same benchmark of the same data is drawn once
    costly = result.model_copy(update={"config": result.config.model_copy(update={"cost_bps": 9.0})})
    diff = tables.param_diff_rows([result, costly], ["a", "b"])
    assert diff == [{"setting": "cost_bps", "a": "5", "b": "9"}]


def test_compare_gives_each_run_and_strategy_its_own_colour_and_each_run_its_line_style(stored):
    result, equity, _, _ = stored
    other = equity.filter(pl.col("role") == "strategy").with_columns(pl.lit("other").alias("strategy"))
    two = pl.concat([equity, other])  # a run with two strategies
    _, items = compare_series([("run-a", result, two), ("run-b", result, two)])
    drawn = [s for s in items if s.role == "strategy"]
    assert len(drawn) == 4
    assert len({s.color for s in drawn}) == 4  # the strategies of one run are told apart by colour
    dashes = {run: {s.dash for s in drawn if s.run == run} for run in ("run-a", "run-b")}
    assert dashes == {"run-a": {"solid"}, "run-b": {"dash"}}  # the run by its line style
    fig = charts.compare_equity_figure([("run-a", result, two), ("run-b", result, two)])
    styles = [(t.line.color, t.line.dash) for t in fig.data]
    assert len(set(styles)) == len(styles)  # no two lines look alike


def test_a_deterministic_run_shows_no_empty_seed_columns_and_decimals_are_even(stored):
    from engine.dashboard.run_view import decimals

    result, _, _, _ = stored
    table = tables.without_empty_seed_columns(tables.metrics_rows(result))
    assert not set(tables.SEED_COLUMNS) & set(table[0])  # ma-trend: one run, no seeds
    assert "CAGR %" in table[0] and "vs benchmark %" in table[0]
    seeded = [{"strategy": "x", "± std %": 1.2}, {"strategy": "y", "± std %": None}]
    assert tables.without_empty_seed_columns(seeded) == seeded  # kept where any row has seeds
    assert decimals([12.5, 12.46, None, 3.0]) == 2  # the column shows 12.50, 12.46, —, 3.00
    assert decimals([10.8, 12.3]) == 2  # 10.80 beside the 2-decimal columns, not 10.8
    assert decimals([1.234]) == 3
    assert decimals([100.0, 45.0]) == 0


def test_name_columns_are_as_wide_as_their_longest_name():
    import polars as pl

    from engine.dashboard.run_view import column_formats, text_width

    name = "equal-weight buy-and-hold of 20 stocks [6501f5]"
    frame = pl.DataFrame({"strategy": ["momentum-annual", name], "CAGR %": [12.5, 3.0]})
    config = column_formats(frame)
    assert config["strategy"]["width"] == text_width(name) >= 6.4 * len(name)
    cagr = config["CAGR %"]
    assert cagr["type_config"]["format"] == "%.2f" and cagr["width"] is None  # sized to its header
    assert text_width("x") == 72 and text_width("x" * 500) == 560
