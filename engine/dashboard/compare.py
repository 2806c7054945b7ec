"""The Compare tab: several stored runs side by side."""

from __future__ import annotations

import streamlit as st

from engine.api import COMPLETE
from engine.dashboard import charts, reads, tables
from engine.dashboard.chart_view import show_chart
from engine.dashboard.run_view import show_table, show_wrapped_table


def compare_runs() -> None:
    """The Compare tab: runs overlaid, aligned on their common period; the settings that differ."""
    root = reads.runs_root()
    complete = [i.run_id for i in reads.runs_now() if i.status == COMPLETE]
    chosen = st.multiselect("runs to compare", complete, default=complete[:2], key="compare-runs")
    if not chosen:
        st.info("choose runs to compare")
        return
    loaded = []
    for run_id in chosen:
        result, equity = reads.load_run(str(root), run_id)
        labelled = result.model_copy(update={"label": reads.annotation(run_id)["label"]})  # RunResult.label
        loaded.append((run_id, labelled, equity))
    log = st.toggle("log scale", value=True, key="cmp-log")
    show_chart(charts.compare_equity_figure(loaded, log=log), key="cmp-equity")
    show_chart(charts.compare_drawdown_figure(loaded), key="cmp-drawdown")
    st.markdown("**Over the common period** (each curve rebased to 1 at the common start)")
    show_table(tables.compare_metric_rows(loaded))
    st.markdown("**Key figures, each run over its own period**")
    own = [{"run": r, **row} for r, result, _ in loaded for row in tables.metrics_rows(result)]
    show_wrapped_table(tables.without_empty_seed_columns(own))  # 14 columns: headers wrap to fit the page
    for run_id, result, _ in loaded:
        st.caption(f"{run_id}: {tables.basis_text(result)}")
    st.markdown("**Settings that differ**")
    names = [result.label or r for r, result, _ in loaded]
    diff = tables.param_diff_rows([result for _, result, _ in loaded], names)
    if diff:
        show_table(diff)
    else:
        st.caption("the runs have the same settings")
    st.markdown("**Yield per calendar year, %** (* partial year)")
    # one column per run and curve: long names, so headers that wrap rather than "equal-weight buy-a…"
    show_wrapped_table(tables.compare_yearly_rows([result for _, result, _ in loaded]))
