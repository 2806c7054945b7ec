"""Terminal reports (rich) of typed run results, so `run`, `show` and `compare` agree.

Every table here formats the rows of :mod:`engine.rows` (the dashboard formats the
same rows); results are :class:`engine.api.RunResult`, read through
attributes (commands type a run's JSON form once, with
:func:`engine.api.parse_result`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from engine import rows
from engine.api import RunInfo, RunResult, StrategyEntry
from engine.rows import num, pct

__all__ = [
    "ablation",
    "ablation_table",
    "basis_line",
    "basis_lines",
    "compare_table",
    "compare_yearly_table",
    "evidence_lines",
    "fit",
    "picks_table",
    "render_run",
    "runs_table",
    "seed_table",
    "summary_table",
    "yearly_table",
]


def basis_line(result: RunResult) -> str:
    """The one line stating a run's basis (engine.api (basis)), printed under every comparison."""
    return rows.basis_line(result)


def _markup(line: rows.Line) -> str:
    if line.kind == "heading":
        return f"[bold]{line.head}[/bold]{line.text}"
    if line.kind == "note":
        return f"[dim]{line.plain}[/dim]"
    return line.plain


class _Wide:
    """A table rendered at its natural width even past the terminal's (``--wide``)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.table, options.update_width(_natural_width(self.table, console)))


def fit(
    table: Table, console: Console, drop_order: Sequence[str] = (), *, wide: bool = False
) -> Table | _Wide:
    """``table`` made to fit ``console.width`` columns, never cutting a number.

    Every column but the first keeps its cells whole (no wrap, at least as wide as its
    longest cell, so rich never puts "…" inside a figure); while the table is wider than
    the terminal, the columns named in ``drop_order`` are removed, first named first,
    and the caption says which (``--wide`` keeps them all). Text columns that may fold
    (names) fold rather than cut. Returns the table, changed in place (wrapped to print
    at its full width when ``wide``).
    """
    for column in table.columns:
        # a header may wrap between its words; a cell is never narrower than its text
        if column is not table.columns[0]:
            words = str(column.header).split()
            cells = (max(len(line) for line in c.split("\n")) for c in _plain(column))
            column.min_width = max([1, *(len(w) for w in words), *cells])
        column.no_wrap = False
        column.overflow = "fold"
    if wide:
        return _Wide(table)
    dropped: list[str] = []
    limit = console.width
    for name in drop_order:
        if _natural_width(table, console) <= limit:
            break
        for column in table.columns:
            if str(column.header) == name:
                table.columns.remove(column)
                dropped.append(name)
    for index, column in enumerate(table.columns):
        column._index = index  # rich pads the edge columns by this index: keep it the position
    if dropped:
        note = f"not shown at {limit} columns: {', '.join(dropped)} (--wide or --json shows all)"
        table.caption = f"{table.caption}; {note}" if table.caption else note
    return table


def _plain(column: Any) -> list[str]:
    return [Text.from_markup(c).plain if isinstance(c, str) else "" for c in column._cells]


def _natural_width(table: Table, console: Console) -> int:
    return console.measure(table, options=console.options.update(width=100_000)).maximum


_SUMMARY_DROP = ("vol", "worst .. best", "in mkt", "± std", "Sharpe", "beat B&H", "max DD")


def render_run(
    result: RunResult, console: Console, *, yearly: bool = True, seeds: bool = True, wide: bool = False
) -> None:
    """Comparison table, per-year yields and per-seed results of one run.

    The tables fit ``console.width`` (lower-priority columns dropped, never a cut number)
    unless ``wide``; the basis line is printed once, under the comparison table.
    """
    period, config, data = result.period, result.config, result.data
    console.print(
        f"[bold]run {result.run_id}[/bold]  data {data.spec} "
        f"({', '.join(data.tickers[:6])}{'…' if len(data.tickers) > 6 else ''})  "
        f"period {period.start} .. {period.end} ({period.years:.1f} years)  "
        f"costs {config.cost_bps:g} bps"
        + (f" + slippage {config.slippage_bps:g} bps" if config.slippage_bps else "")
    )
    console.print(fit(summary_table(result), console, _SUMMARY_DROP, wide=wide), crop=False)
    console.print(f"[dim]{rows.basis_line(result)}[/dim]", highlight=False, soft_wrap=True)
    for line in rows.evidence_lines(result):
        if line.plain.strip().startswith("basis:"):
            continue  # stated once, right under the comparison table
        console.print(_markup(line), highlight=False)
    for note in rows.warnings(result):  # implausible results: right under the numbers they qualify
        console.print(f"[bold red]{note}[/bold red]", highlight=False)
    if yearly:
        console.print(fit(yearly_table(result), console, wide=wide), crop=False)
    if seeds:
        for entry in rows.seeded_strategies(result):
            console.print(fit(seed_table(entry, result.benchmark), console, wide=wide), crop=False)
    if yearly:
        for entry in result.strategies:
            if entry.picks:
                console.print(picks_table(entry))
    if result.universe:
        for line in rows.coverage_lines(result.universe):
            console.print(line, highlight=False)
    for note in rows.other_notes(result):
        console.print(f"[dim]note: {note}[/dim]")


def summary_table(result: RunResult) -> Table:
    """Strategy vs buy-and-hold: the rows of :func:`engine.rows.summary_rows`."""
    counts = rows.seed_counts(result)
    table = Table(
        title="Strategy vs buy-and-hold, same period (CAGR from real dates)",
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    columns = [("strategy", "left"), ("CAGR", "right"), ("vs B&H", "right")]
    if counts:
        columns += [("± std", "right"), ("worst .. best", "right"), ("beat B&H", "right")]
    columns += [("Sharpe", "right"), ("max DD", "right"), ("vol", "right"), ("in mkt", "right")]
    for col, justify in columns:
        table.add_column(col, justify=justify, no_wrap=True)
    for row in rows.summary_rows(result):
        cells = [
            f"[cyan]{row.name}[/cyan]" if row.benchmark else row.name,
            pct(row.cagr),
            "" if row.benchmark else pct(row.excess, signed=True),
        ]
        if counts:
            spread = row.spread
            cells += (
                [
                    pct(spread.cagr_std),
                    f"{pct(spread.cagr_worst)} .. {pct(spread.cagr_best)}",
                    pct(spread.share_beating_benchmark, digits=0),
                ]
                if spread
                else ["", "", ""]
            )
        cells += [num(row.sharpe), pct(row.max_drawdown), pct(row.volatility), pct(row.exposure, digits=0)]
        table.add_row(*cells)
    if counts:
        table.caption = (
            f"seeded strategies show means over their seeds ({', '.join(f'{n} {k}' for n, k in counts)}); "
            "'beat B&H' = share of seeds; ensemble = trading the seeds' mean prediction"
        )
    return table


def evidence_lines(result: RunResult) -> list[str]:
    """The evidence block (:func:`engine.rows.evidence_lines`) with rich markup for the terminal."""
    return [_markup(line) for line in rows.evidence_lines(result)]


def yearly_table(result: RunResult) -> Table:
    """Yield per calendar year of every strategy and benchmark (seed means for seeded strategies)."""
    columns = rows.yearly_columns(result)
    table = Table(title="Yield per calendar year", title_justify="left", caption_justify="left")
    table.add_column("year")
    for column in columns:
        table.add_column(column.name, justify="right")
    years = rows.years(result)
    for year in years:
        table.add_row(year.label, *(pct(c.values.get(year.year)) for c in columns))
    notes = ["* partial year"] if result.benchmark.partial_years else []
    if any(e.stochastic for e in result.entries):
        notes.append("mean over seeds for seeded strategies")
    table.caption = "; ".join(notes)  # the basis line follows the table (render_run), unwrapped
    return table


def seed_table(entry: StrategyEntry, benchmark: StrategyEntry) -> Table:
    """Every seed of a stochastic strategy against the primary benchmark."""
    table = Table(title=f"{entry.name}: every seed", title_justify="left", caption_justify="left")
    for col in ("seed", "CAGR", "Sharpe", "max DD", "vs B&H"):
        table.add_column(col, justify="right")
    for row in rows.seed_rows(entry, benchmark.cagr):
        table.add_row(
            str(row.seed), pct(row.cagr), num(row.sharpe), pct(row.max_drawdown), pct(row.excess, signed=True)
        )
    agg = entry.aggregate
    table.caption = (
        f"mean {pct(agg.cagr_mean)} ± {pct(agg.cagr_std)} (std over seeds), median "
        f"{pct(agg.cagr_median)}, best {pct(agg.cagr_best)}, worst {pct(agg.cagr_worst)}; "
        f"{pct(agg.share_beating_benchmark, digits=0)} of seeds beat buy-and-hold "
        f"({pct(benchmark.cagr)})"
    )
    return table


def picks_table(entry: StrategyEntry) -> Table:
    """Tickers held each year by an annual strategy, and how many beat the universe's median stock."""
    picks = rows.picks(entry)
    if picks is None:
        raise ValueError(f"{entry.name} has no picks")
    title = f"{picks.strategy}: picks per year held" + (f" ({picks.member})" if picks.member else "")
    table = Table(title=title, title_justify="left", caption_justify="left")
    table.add_column("year")
    table.add_column("picks")
    table.add_column("beat median", justify="right")
    if picks.with_seeds:
        table.add_column("most picked over seeds (count)")
    for year in picks.years:
        cells = [year.year, " ".join(year.tickers), pct(year.beat_median, digits=0)]
        if picks.with_seeds:
            cells.append(" ".join(f"{t}({c})" for t, c in year.by_seed))
        table.add_row(*cells)
    caption = "share of picks beating the universe's median stock over the year held: " + pct(
        picks.share, digits=1
    )
    if picks.share_mean_over_seeds is not None and picks.with_seeds:
        caption += f" (mean over seeds {pct(picks.share_mean_over_seeds, digits=1)})"
    table.caption = caption
    return table


def runs_table(infos: Sequence[RunInfo]) -> Table:
    """Stored runs, newest first: the rows of :func:`engine.rows.runs_rows`."""
    table = Table(title="Runs (newest first)", title_justify="left")
    for col in ("run", "status", "data", "strategies", "period", "CAGR (1st)", "B&H"):
        table.add_column(col, overflow="fold")
    for row in rows.runs_rows(infos):
        status = {"complete": "[green]complete[/green]", "failed": "[red]failed[/red]"}.get(
            row.status, f"[yellow]{row.status}[/yellow]"
        )
        error = row.error
        detail = f"\n[dim]{error[:70]}{'…' if len(error) > 70 else ''}[/dim]" if error else ""
        table.add_row(
            row.run_id,
            status,
            row.data,
            ", ".join(row.strategies) + detail,
            row.period,
            row.cagr,
            row.benchmark_cagr,
        )
    return table


def compare_table(results: Sequence[RunResult]) -> Table:
    """Runs side by side, each over its own period: the rows of :func:`engine.rows.compare_rows`."""
    table = Table(title="Runs side by side", title_justify="left", caption_justify="left")
    for col, justify in (
        ("run", "left"),
        ("strategy", "left"),
        ("period", "left"),
        ("CAGR", "right"),
        ("± std", "right"),
        ("Sharpe", "right"),
        ("max DD", "right"),
        ("vs B&H", "right"),
        ("costs", "right"),
    ):
        table.add_column(col, justify=justify)
    for row in rows.compare_rows(results):
        table.add_row(
            row.run_id,
            row.name,
            row.period,
            pct(row.cagr),
            pct(row.cagr_std) if row.stochastic else "",
            num(row.sharpe),
            pct(row.max_drawdown),
            "" if row.role == "benchmark" else pct(row.excess, signed=True),
            f"{row.cost_bps:g} bps",
        )
    return table  # basis_lines(results) follow it


def basis_lines(results: Sequence[RunResult]) -> list[str]:
    """One basis line per run, for under a comparison of several runs (printed unwrapped)."""
    return rows.basis_lines(results)


def compare_yearly_table(results: Sequence[RunResult]) -> Table:
    """Yield per calendar year of every entry of every run, side by side."""
    columns = rows.compare_yearly_columns(results)
    table = Table(title="Yield per calendar year, side by side", title_justify="left", caption_justify="left")
    table.add_column("year")
    for column in columns:
        table.add_column(column.label, justify="right")
    for year in rows.union_years(columns):
        table.add_row(year, *(pct(c.values.get(year)) for c in columns))
    return table  # basis_lines(results) follow it


def ablation(with_result: RunResult, without_result: RunResult) -> list[dict[str, Any]]:
    """Per strategy and seed: CAGR with and without headlines and the difference (same seeds), as JSON."""
    return [r.to_dict() for r in rows.ablation_rows(with_result, without_result)]


def ablation_table(with_result: RunResult, without_result: RunResult) -> Table:
    """The headlines ablation: the rows of :func:`engine.rows.ablation_rows` and their summary."""
    found = rows.ablation_rows(with_result, without_result)
    table = Table(
        title="Headlines ablation: CAGR per seed, same seeds and period",
        title_justify="left",
        caption_justify="left",
    )
    for col in ("strategy", "seed", "with headlines", "without", "difference"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for r in found:
        table.add_row(r.strategy, str(r.seed), pct(r.with_), pct(r.without), pct(r.difference, True))
    summary = rows.ablation_summary(found)
    if summary is not None:
        table.caption = (
            f"mean difference {pct(summary.mean, True)} ± {pct(summary.std)}"
            f" (std over seeds); headlines helped in {summary.helped} of {summary.n}"
        )  # the basis line follows the table (cli), unwrapped
    return table
