"""A run's tearsheet as one self-contained HTML file: the dashboard's download and ``backtest show --html``.

Every chart of :mod:`engine.dashboard.charts` and :mod:`engine.dashboard.analysis`
and the tables of :mod:`engine.dashboard.tables`, with plotly.js inlined once (the
dashboard's cartesian bundle, :mod:`engine.dashboard.plotly_bundle`: the file opens offline)
and the run's JSON form embedded.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import polars as pl

from engine.api import RunResult
from engine.dashboard.analysis import (
    cost_rows,
    drawdown_periods,
    excess_figure,
    exposure_figure,
    monthly_heatmap_figure,
    returns_histogram,
    rolling_figure,
)
from engine.dashboard.charts import drawdown_figure, equity_figure, seed_distribution_figure, yearly_figure
from engine.dashboard.plotly_bundle import bundle_text
from engine.dashboard.series import series
from engine.dashboard.tables import config_lines, metrics_rows, without_empty_seed_columns, yearly_rows
from engine.rows import NA


def _table_html(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(NA if v is None else str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tearsheet_figures(
    result: RunResult, equity: pl.DataFrame, weights: pl.DataFrame | None
) -> list[go.Figure]:
    """Every chart of the tearsheet, in page order."""
    items = series(result, equity)
    figures = [equity_figure(result, equity), drawdown_figure(result, equity), yearly_figure(result)]
    figures += [monthly_heatmap_figure(s) for s in items if s.role == "strategy"]
    figures += [rolling_figure(items), excess_figure(items), returns_histogram(items)]
    if weights is not None and not weights.is_empty():
        figures.append(exposure_figure(result, weights))
    seeds = seed_distribution_figure(result)
    if seeds is not None:
        figures.append(seeds)
    return figures


def tearsheet_html(
    result: RunResult,
    equity: pl.DataFrame,
    weights: pl.DataFrame | None = None,
    *,
    label: str | None = None,
    json_form: Mapping[str, Any] | None = None,
) -> str:
    """One self-contained HTML file (plotly.js inlined once, opens offline) with the run's tearsheet.

    ``label``: the run's label for the heading (default: ``RunResult.label``); when
    given it is also embedded as the JSON form's ``label``. The page embeds the run's
    JSON form: ``json_form`` as it is when given (the stored dict, in the key order of
    ``metrics.json``), else the typed result's dump (the same values).
    """
    typed = result
    embedded = dict(json_form) if json_form is not None else typed.model_dump(mode="json", exclude_unset=True)
    if label is not None:
        embedded["label"] = label
    label = label or typed.label
    items = series(typed, equity)
    parts = [
        f"<h1>Run {html.escape(typed.run_id)}" + (f": {html.escape(label)}" if label else "") + "</h1>",
        "<pre>" + html.escape("\n".join(config_lines(typed))) + "</pre>",
        "<h2>Key figures</h2>",
        _table_html(without_empty_seed_columns(metrics_rows(typed))),
    ]
    if weights is not None and not weights.is_empty():
        parts += ["<h2>Turnover and fees paid</h2>", _table_html(cost_rows(typed, weights))]
    for s in items:
        parts += [
            f"<h2>Worst drawdowns: {html.escape(s.label)}</h2>",
            _table_html(drawdown_periods(s.dates, s.values)),
        ]
    parts += ["<h2>Yield per calendar year (%)</h2>", _table_html(yearly_rows(typed))]
    parts.append(f"<script type='text/javascript'>{bundle_text()}</script>")  # once, before the charts
    for fig in tearsheet_figures(typed, equity, weights):
        # plotly's own look, also where the process has imported streamlit: its default template
        # then is Streamlit's, whose colours are placeholders only Streamlit's page fills in
        fig.update_layout(template="plotly")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in typed.notes)
    if notes:
        parts.append(f"<h2>Notes</h2><ul>{notes}</ul>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #999;padding:2px 8px;"
        "text-align:right}th{background:#eee}pre{white-space:pre-wrap}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Run {html.escape(typed.run_id)}"
        f"</title><style>{style}</style></head><body>{''.join(parts)}"
        f"<script type='application/json' id='metrics'>{html.escape(json.dumps(embedded))}</script>"
        "</body></html>"
    )
