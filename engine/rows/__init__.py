"""The rows every surface formats a run from: tables and lines as typed values, no markup.

Read from the typed result (:class:`engine.store.result_schema.RunResult`); the terminal
report (rich), the dashboard (plotly/streamlit) and the sweep report format these
rows and nothing else, so they show the same figures under the same names. Values
are fractions (0.1 = 10%) or ``None`` where a figure is undefined or does not
apply; the formatting helpers :func:`pct`, :func:`num` (text) and :func:`percent`
(a rounded number for interactive tables) live here so every surface formats alike.
No rich, plotly or streamlit here (the pipeline's rule): text lines are plain.

The modules: ``format`` (percentages, numbers, settings as text), ``run`` (one
run: names, basis, summary, seeds, yearly yields, notes, config), ``annual_picks`` (an annual
strategy's picks), ``evidence_block`` (the evidence lines), ``runs`` (the listing, runs side by side, the
headline ablation), ``sweeps`` (one row per sweep cell). Surfaces import the
package: ``from engine import rows; rows.summary_rows(result)``.
"""

from __future__ import annotations

from engine.rows.annual_picks import PickRow, Picks, PicksYear, pick_rows, picks
from engine.rows.evidence_block import Line, evidence_lines
from engine.rows.format import NA, difference, fmt_value, num, pct, percent, rounded
from engine.rows.run import (
    SeedRow,
    SummaryRow,
    Year,
    YearlyColumn,
    basis_line,
    config_lines,
    coverage_lines,
    display_name,
    flat_config,
    other_notes,
    row_label,
    seed_counts,
    seed_rows,
    seeded,
    seeded_strategies,
    summary_rows,
    union_years,
    warnings,
    yearly_columns,
    years,
)
from engine.rows.runs import (
    AblationRow,
    AblationSummary,
    CompareRow,
    RunsRow,
    ablation_rows,
    ablation_summary,
    basis_lines,
    compare_rows,
    compare_yearly_columns,
    run_tag,
    runs_rows,
    short_data,
)
from engine.rows.sweeps import SweepRow, sweep_rows
from engine.store.migrations import LEGACY_BASIS  # the basis line of runs stored before bases were tracked

__all__ = [
    "LEGACY_BASIS",
    "NA",
    "AblationRow",
    "AblationSummary",
    "CompareRow",
    "Line",
    "PickRow",
    "Picks",
    "PicksYear",
    "RunsRow",
    "SeedRow",
    "SummaryRow",
    "SweepRow",
    "Year",
    "YearlyColumn",
    "ablation_rows",
    "ablation_summary",
    "basis_line",
    "basis_lines",
    "compare_rows",
    "compare_yearly_columns",
    "config_lines",
    "coverage_lines",
    "difference",
    "display_name",
    "evidence_lines",
    "flat_config",
    "fmt_value",
    "num",
    "other_notes",
    "pct",
    "percent",
    "pick_rows",
    "picks",
    "rounded",
    "row_label",
    "run_tag",
    "runs_rows",
    "seed_counts",
    "seed_rows",
    "seeded",
    "seeded_strategies",
    "short_data",
    "summary_rows",
    "sweep_rows",
    "union_years",
    "warnings",
    "yearly_columns",
    "years",
]
