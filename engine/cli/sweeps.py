"""Sweeps: ``sweep`` runs every cell of a spec (resumable), ``sweep-report`` sets the cells side by side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.cli.console import err, out
from engine.cli.inputs import resolve_settings
from engine.cli.options import CacheDirOpt, JsonOpt, NamedModelOpt, PluginOpt, RunsDirOpt

# the options only `sweep` takes (shared ones: engine.cli.options)
ExecutorOpt = Annotated[str, typer.Option("--executor", help="local (process pool) or ray")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="parallel cells [default: the CPU count]")
]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Ray cluster address [default: start one]")]
GpusOpt = Annotated[
    int,
    typer.Option(
        "--gpus",
        min=0,
        help="GPUs to use: one cell per GPU at a time (Ray: num_gpus=1 per task) [default: 0]",
    ),
]
MaxCellsOpt = Annotated[
    int,
    typer.Option(
        "--max-cells",
        min=1,
        help="refuse a spec of more cells than this, counted before expanding [default: 10000]",
    ),
]


def sweep(
    spec: Annotated[Path, typer.Argument(help="sweep spec (TOML or YAML)")],
    executor: ExecutorOpt = "local",
    workers: WorkersOpt = None,
    address: AddressOpt = None,
    gpus: GpusOpt = 0,
    max_cells: MaxCellsOpt = 10_000,
    plugin: PluginOpt = None,
    headline_model: NamedModelOpt = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Run every cell of a sweep that is not complete yet (re-run to resume); cells are ordinary runs."""
    from engine.api import RunStore, expand, load_spec, run_sweep

    settings = resolve_settings(runs_dir, cache_dir)
    loaded = load_spec(
        spec, plugins=tuple(plugin or ()), headline_models=(headline_model,) if headline_model else ()
    )
    cells = expand(loaded, max_cells=max_cells)
    err.print(f"sweep {loaded.name}: {len(cells)} cells, executor {executor}")

    def event(kind: str, cell: Any, detail: str) -> None:
        color = {"done": "green", "elsewhere": "yellow"}.get(kind, "red")
        err.print(f"[{color}]{kind}[/{color}] {cell.label}: {detail}", highlight=False)

    try:
        outcome = run_sweep(
            loaded,
            RunStore(settings.runs_dir),
            executor=executor,
            workers=workers,
            address=address,
            cache_dir=settings.cache_dir,
            on_event=event,
            gpus=gpus,
            max_cells=max_cells,
        )
    except KeyboardInterrupt:
        err.print("interrupted: finished cells are stored; run the same command again to resume")
        raise typer.Exit(130) from None
    _say(outcome)
    if outcome.failed:
        raise typer.Exit(1)


def _say(outcome: Any) -> None:
    """The sweep's last lines: cells skipped, run, failed (a ``SweepOutcome``), and the report command."""
    out.print(
        f"sweep {outcome.sweep_id}: {outcome.cells} cells; {outcome.skipped} already complete (skipped), "
        f"{len(outcome.done)} run now, {len(outcome.failed)} failed"
        + (f", {outcome.elsewhere} being computed by another process" if outcome.elsewhere else "")
        + f"; {outcome.seconds:.1f} s"
    )
    out.print(f"report: backtest sweep-report {outcome.sweep_id}")


def sweep_report(
    sweep_id: Annotated[str, typer.Argument(help="the sweep's name")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write the chart here [default: <runs>/sweeps/<id>.html]")
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per cell: mean CAGR over seeds ± std, share of seeds beating buy-and-hold, Sharpe, deflated Sharpe."""
    from engine.api import RunStore
    from engine.config.paths import child
    from engine.dashboard.sweep_chart import write_figure  # the chart is the dashboard's, as HTML
    from engine.rows import num, pct, sweep_rows

    settings = resolve_settings(runs_dir)
    default_plot = child(settings.runs_dir / "sweeps", sweep_id, "sweep name", ".html")
    rows = sweep_rows(RunStore(settings.runs_dir), sweep_id)
    # the default place is in the store: every level below the runs directory checked for links
    path = write_figure(rows, sweep_id, plot or default_plot, root=None if plot else settings.runs_dir)
    if as_json:
        print(
            json.dumps(
                {"sweep": sweep_id, "cells": [r.to_dict() for r in rows], "plot": str(path)},
                indent=2,
                default=str,
            )
        )
        return
    table = Table(title=f"Sweep {sweep_id} (best first)", title_justify="left", caption_justify="left")
    for col in ("cell", "status", "CAGR mean", "± std", "beat B&H", "Sharpe", "B&H", "PSR best", "DSR best"):
        table.add_column(col, justify="left" if col in ("cell", "status") else "right")
    trials = next((r.trials for r in rows if r.trials is not None), 0)
    for r in rows:
        if r.status != "complete":
            table.add_row(r.cell, f"[red]{r.status}[/red]", (r.error or "")[:60], "", "", "", "", "", "")
            continue
        table.add_row(
            r.cell,
            r.status,
            pct(r.cagr_mean),
            pct(r.cagr_std),
            pct(r.share_beating, digits=0),
            num(r.sharpe_mean),
            pct(r.benchmark_cagr),
            num(r.psr),
            num(r.dsr),
        )
    table.caption = (
        "PSR/DSR: best seed of the cell (highest CAGR), daily returns in excess of buy-and-hold; "
        f"DSR deflated for {trials} trials (every seed of every cell). "
        "DSR < 0.95: within what chance gives for that many trials. "
        f"Chart: {path}"
    )
    out.print(table)
