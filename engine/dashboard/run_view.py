"""One stored run on the page: its configuration, key figures, charts and tearsheet panels.

Every figure and table comes from the stored run (:mod:`engine.dashboard.charts`,
``analysis``, ``tables``), so the numbers are those of ``backtest show``.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import polars as pl
import streamlit as st

from engine.api import RunResult, run_notes
from engine.dashboard import analysis, charts, reads, tables
from engine.dashboard.chart_view import show_chart
from engine.dashboard.pandas_import import import_pandas_once
from engine.dashboard.series import Series, series
from engine.rows import NA, display_name, seeded

NAME_COLUMNS = ("strategy", "curve")  # long labels ("lstm-stateful · seed mean (10 seeds)"): never cut


def decimals(values: Any) -> int:
    """Decimals for a column of rounded figures, every cell alike: 0 when all are whole, else 2 to 4."""
    most = 0
    for v in values:
        if isinstance(v, float) and np.isfinite(v):
            text = f"{v:.4f}".rstrip("0")
            most = max(most, len(text.partition(".")[2]))
    return most if most == 0 else max(most, 2)  # whole counts stay whole; figures get 2 like CAGR


def text_width(text: str, least: int = 72, most: int = 560) -> int:
    """Pixels a table cell needs for ``text`` in Streamlit's table font (about 6.4 px a character
    at 14 px, measured on the tables' names, plus the cell's padding), between ``least`` and ``most``."""
    return int(min(most, max(least, 6.4 * len(text) + 24)))


def column_formats(frame: pl.DataFrame) -> dict[str, Any]:
    """Streamlit column settings: one number of decimals per float column (no "12.5" over "12.46"),
    names as wide as the longest (none cut off with "…"); other columns size to their header."""
    config: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        if dtype.is_float():
            config[name] = st.column_config.NumberColumn(format=f"%.{decimals(frame[name])}f")
        elif name in NAME_COLUMNS:
            longest = max([name, *(str(v) for v in frame[name].drop_nulls())], key=len)
            config[name] = st.column_config.TextColumn(width=text_width(longest))
    return config


def show_table(rows: list[dict[str, Any]], **kwargs: Any) -> None:
    """A table whose empty cells (figures that do not apply) read "—"; decimals even per column."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    kwargs["column_config"] = {**column_formats(frame), **kwargs.get("column_config", {})}
    import_pandas_once()
    st.dataframe(frame, hide_index=True, width="stretch", placeholder=NA, **kwargs)


# a code-like box: Streamlit's monospace font, a faint tint that reads on light and dark themes
PRE_STYLE = (
    "font-family: 'Source Code Pro', monospace; font-size: 14px; line-height: 1.6; margin: 0 0 1rem;"
    " padding: 1rem; border-radius: 0.5rem; background: rgba(128, 128, 128, 0.1);"
    " white-space: pre-wrap; overflow-wrap: anywhere; color: inherit"
)


def show_lines(text: str) -> None:
    """Plain lines (the configuration echo, the evidence block) in a box that looks like st.code.

    Not st.code: its syntax highlighter is a 1.5 MB script the browser fetches, compiles and
    runs (half a second of a loaded 2-core machine, measured) for text that is never highlighted.
    """
    st.html(f'<pre class="stockrnn-lines" style="{PRE_STYLE}">{html.escape(text)}</pre>')


# a static table whose headers wrap; borders and header tint read on light and dark themes
WRAPPED_STYLE = (
    "<style>.stockrnn-table{border-collapse:collapse;width:100%;font-size:14px;margin:0 0 1rem;"
    "font-variant-numeric:tabular-nums}.stockrnn-table th,.stockrnn-table td{padding:.25rem .5rem;"
    "border:1px solid rgba(128,128,128,.25);text-align:left}.stockrnn-table th{font-weight:400;"
    "vertical-align:bottom;background:rgba(128,128,128,.08)}.stockrnn-table .num{text-align:right}</style>"
)


def show_wrapped_table(rows: list[dict[str, Any]]) -> None:
    """A table whose long headers wrap onto more lines instead of being cut (Compare's yearly yields:
    a column per run and curve, named "TAG name"); figures right-aligned with even decimals per
    column, "—" where none, text left-aligned."""
    if not rows:
        return
    columns = list(rows[0])
    values = {c: [r.get(c) for r in rows] for c in columns}
    numeric = {
        c: all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in vs)
        for c, vs in values.items()
    }
    places = {c: decimals(vs) for c, vs in values.items()}

    def cell(value: Any, column: str) -> str:
        if value is None:
            return NA
        return f"{value:.{places[column]}f}" if isinstance(value, float) else html.escape(str(value))

    def kind(column: str) -> str:
        return ' class="num"' if numeric[column] and column != "year" else ""

    head = "".join(f"<th{kind(c)}>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{kind(c)}>{cell(r.get(c), c)}</td>" for c in columns) + "</tr>" for r in rows
    )
    table = f'<table class="stockrnn-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    st.html(WRAPPED_STYLE + table)


def show_run(run_id: str, key: str) -> None:
    """A stored run: its exact configuration, key figures, charts and the tearsheet panels."""
    result, equity = reads.load_run(str(reads.runs_root()), run_id)
    note = reads.annotation(run_id)
    st.subheader(f"Run {run_id}" + (f" — {note['label']}" if note["label"] else ""))
    show_lines("\n".join(tables.config_lines(result)))
    if note["notes"]:
        st.caption(note["notes"])
    show_table(tables.without_empty_seed_columns(tables.metrics_rows(result)))
    st.caption(tables.basis_text(result))
    items = series(result, equity)
    overview, sheet, seeds_tab, files = st.tabs(
        ["Overview", "Tearsheet", "Seeds, evidence, picks", "Label, notes, downloads"],
        key=f"{key}-view",
        on_change="rerun",
    )
    if overview.open:
        with overview:
            log = st.toggle("log scale", value=True, key=f"{key}-log")
            show_chart(charts.equity_figure(result, equity, log=log), key=f"{key}-eq")
            show_chart(charts.drawdown_figure(result, equity), key=f"{key}-dd")
            show_chart(charts.yearly_figure(result), key=f"{key}-yearly")
            st.markdown("**Yield per calendar year, %** (* partial year)")
            show_table(tables.yearly_rows(result))
            for line in result.notes:
                st.caption(f"note: {line}")
    if sheet.open:
        with sheet:
            tearsheet_panels(run_id, result, items, key)
    if seeds_tab.open:
        with seeds_tab:
            seeds_panel(result, key)
    if files.open:
        with files:
            label_and_downloads(run_id, result, equity, note, key)


def tearsheet_panels(run_id: str, result: RunResult, items: list[Series], key: str) -> None:
    """Monthly returns, rolling figures, excess, exposure, costs, worst drawdowns, return histogram."""
    strategies = [s for s in items if s.role == "strategy"] or items
    chosen = st.selectbox("monthly returns of", [s.label for s in items], key=f"{key}-heat")
    show_chart(
        analysis.monthly_heatmap_figure(next(s for s in items if s.label == chosen)), key=f"{key}-heatmap"
    )
    show_chart(analysis.rolling_figure(items), key=f"{key}-rolling")
    if any(s.role == "benchmark" for s in items) and strategies is not items:
        show_chart(analysis.excess_figure(items), key=f"{key}-excess")
    weights = reads.load_weights(str(reads.runs_root()), run_id)
    show_chart(analysis.exposure_figure(result, weights), key=f"{key}-exposure")
    st.markdown("**Turnover and fees paid**")
    show_table(analysis.cost_rows(result, weights))
    left, right = st.columns(2)
    with left:
        for s in items:
            st.markdown(f"**Worst drawdowns: {s.label}**")
            show_table(analysis.drawdown_periods(s.dates, s.values))
    with right:
        show_chart(analysis.returns_histogram(items), key=f"{key}-hist")


def seeds_panel(result: RunResult, key: str) -> None:
    """Every seed, the seed evidence ("is it a fluke?"), picks per year and universe coverage."""
    distribution = charts.seed_distribution_figure(result)
    if distribution is not None:
        show_chart(distribution, key=f"{key}-seeds")
    evidence = tables.evidence_text(result)
    if evidence:
        st.markdown("**Is it a fluke?**")
        show_lines("\n".join(evidence[1:]))
    ranks = charts.rank_figure(result)
    if ranks is not None:
        show_chart(ranks, key=f"{key}-ranks")
    bench = result.benchmark.cagr
    for entry in result.strategies:
        if seeded(entry):
            st.markdown(f"**{entry.name}: every seed** (vs {display_name(result.benchmark)})")
            show_table(tables.seed_rows(entry, bench))
        if entry.picks:
            share = entry.picks_beat_median.share if entry.picks_beat_median else None
            st.markdown(
                f"**{entry.name}: picks per year held** — "
                f"{'' if share is None else f'{share * 100:.1f}% of picks beat the universe median stock'}"
            )
            show_table(tables.picks_rows(entry))
    if result.universe:
        st.markdown(f"**universe {result.universe.spec}: members with prices per year**")
        show_table(tables.coverage_rows(result.universe))
    if distribution is None and not evidence and not any(e.picks for e in result.strategies):
        st.info("deterministic strategies: no seeds, no seed evidence")


def label_and_downloads(
    run_id: str, result: RunResult, equity: pl.DataFrame, note: dict[str, str], key: str
) -> None:
    """The run's label and notes (editable) and its files to download."""
    with st.form(f"{key}-note"):
        label = st.text_input("label", value=note["label"], max_chars=run_notes.MAX_LABEL)
        notes = st.text_area("notes", value=note["notes"], max_chars=run_notes.MAX_NOTES)
        if st.form_submit_button("save label and notes"):
            run_notes.write(reads.runs_root() / run_id, label, notes)
            reads.run_labels.clear()
            reads.tearsheet.clear()
            st.rerun()
    cols = st.columns(5)
    cols[0].download_button(
        "equity (CSV)", equity.write_csv(), file_name=f"{run_id}-equity.csv", mime="text/csv", key=f"{key}-e"
    )
    cols[1].download_button(
        "weights (CSV)",
        reads.load_weights(str(reads.runs_root()), run_id).write_csv(),
        file_name=f"{run_id}-weights.csv",
        mime="text/csv",
        key=f"{key}-w",
    )
    cols[2].download_button(
        "metrics (CSV)",
        pl.DataFrame(tables.without_empty_seed_columns(tables.metrics_rows(result))).write_csv(),
        file_name=f"{run_id}-metrics.csv",
        mime="text/csv",
        key=f"{key}-m",
    )
    cols[3].download_button(
        "metrics (JSON)",
        json.dumps(reads.run_json(str(reads.runs_root()), run_id), indent=2),  # as stored, byte for byte
        file_name=f"{run_id}-metrics.json",
        mime="application/json",
        key=f"{key}-j",
    )
    cols[4].download_button(
        "tearsheet (HTML)",
        reads.tearsheet(str(reads.runs_root()), run_id, note["label"]),
        file_name=f"{run_id}-tearsheet.html",
        mime="text/html",
        key=f"{key}-h",
    )
