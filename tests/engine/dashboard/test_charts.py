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


def test_legends_sit_under_the_x_axis_labels_and_title_never_over_them(stored):
    from engine.dashboard import analysis
    from engine.dashboard.series import series
    from engine.dashboard.style import TICKS_PX, TITLED_PX

    result, equity, weights, _ = stored
    items = series(result, equity)
    figures = {
        "equity": (charts.equity_figure(result, equity), TICKS_PX),
        "yearly": (charts.yearly_figure(result), TICKS_PX),
        "histogram": (analysis.returns_histogram(items), TITLED_PX),  # its x axis has a title
        "drawdown": (charts.drawdown_figure(result, equity), TICKS_PX),
    }
    for name, (fig, below) in figures.items():
        layout = fig.layout
        plot_px = layout.height - layout.margin.t - layout.margin.b
        assert -layout.legend.y * plot_px >= below - 1, name  # the legend's top under the axis labels
        assert layout.margin.b >= below + 24, name  # and room for a row of legend under them
        assert layout.xaxis.automargin and layout.yaxis.automargin, name  # tick labels never cut
    assert charts.yearly_figure(result).layout.xaxis.tickangle == 0  # a few years: labels upright
    alone = analysis.exposure_figure(result, weights)  # one curve: plotly shows no legend, no room kept
    assert len(alone.data) == 1 and alone.layout.margin.b == 40 and alone.layout.xaxis.automargin
