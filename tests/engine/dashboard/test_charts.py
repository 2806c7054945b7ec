"""Figures of stored runs: every year labelled, partial years marked, bars and table columns alike."""

from __future__ import annotations

from engine.dashboard import charts, tables


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
