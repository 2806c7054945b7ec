"""Figures of stored runs: every year labelled, partial years marked; the log axis's ticks."""

from __future__ import annotations

from engine.dashboard import charts, tables
from engine.dashboard.style import log_ticks


def test_log_ticks_step_1_2_5_and_label_whole_values():
    ticks, text = log_ticks(0.8, 60)
    assert ticks == [1, 2, 5, 10, 20, 50]
    assert text == ["1", "2", "5", "10", "20", "50"]
    ticks, text = log_ticks(1, 1e6)  # long spans: one tick per decade, no crowding
    assert ticks == [1, 10, 100, 1000, 10000, 100000, 1000000] and text[4] == "10,000"
    ticks, text = log_ticks(0.9, 2.9)  # short spans: finer steps, still at least 4 ticks
    assert text == ["1", "1.5", "2", "3"]


def test_partial_years_are_marked_in_the_table_and_every_year_is_labelled(stored):
    result, _, _, _ = stored
    partial = result.benchmark.partial_years
    assert partial
    years = [r["year"] for r in tables.yearly_rows(result)]
    assert all(y.endswith("*") == (int(y.rstrip("*")) in partial) for y in years)
    fig = charts.yearly_figure(result)
    assert list(fig.layout.xaxis.tickvals) == years
    assert [t.name for t in fig.data] == [c[0] for c in charts.yearly_columns(result)]
    assert list(tables.yearly_rows(result)[0])[1:] == [t.name for t in fig.data]  # table columns = bars
