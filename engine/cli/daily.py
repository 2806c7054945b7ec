"""``backtest track``, ``backtest daily``, ``backtest signal``: keeping runs current every evening."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from engine.cli.console import err, out
from engine.cli.inputs import resolve_settings
from engine.cli.options import CacheDirOpt, JsonOpt, NamedModelOpt, PluginOpt, RunsDirOpt
from feeds.errors import InputError


def track(
    run_id: Annotated[str | None, typer.Argument(help="run id, unique prefix, or 'latest'")] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="the tracked name [default: the first strategy]")
    ] = None,
    plugin: PluginOpt = None,
    list_: Annotated[bool, typer.Option("--list", help="list the tracked runs")] = False,
    remove: Annotated[str | None, typer.Option("--remove", help="stop tracking NAME", metavar="NAME")] = None,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Keep a stored run current: `backtest daily` continues every tracked run each evening."""
    from engine.api import RunStore, tracking

    settings = resolve_settings(runs_dir)
    if remove is not None:
        tracking.untrack(settings.runs_dir, remove)
        err.print(f"no longer tracking {remove} (its runs and signals stay)")
        return
    if list_ or run_id is None:
        tracked = tracking.load(settings.runs_dir)
        if not tracked:
            err.print("no tracked runs (backtest track RUN)")
            return
        for entry in tracked.values():
            out.print(f"{entry.name}  run {entry.run_id}  data {entry.data}", highlight=False)
        return
    entry = tracking.track(RunStore(settings.runs_dir), run_id, name, tuple(plugin or ()))
    err.print(
        f"tracking run {entry.run_id} as {entry.name} (data {entry.data}); `backtest daily` keeps it current"
    )


def daily(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would be done, do nothing")] = False,
    plugin: PluginOpt = None,
    headline_model: NamedModelOpt = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Bring every tracked run up to date (one update per new day) and write tomorrow's signal.

    A tracked run of a module:Class / file.py:Class plugin (or a headline model directory) is
    continued only when this command names it again (--plugin, --headline-model).

    Exit 0: all up to date; 1: a run failed (the others still proceed); 2: bad input.
    """
    from engine.api import run_daily, signals

    settings = resolve_settings(runs_dir, cache_dir)
    report = run_daily(
        settings.runs_dir,
        cache_dir=settings.cache_dir,
        dry_run=dry_run,
        log=err.print,
        plugins=tuple(plugin or ()),
        headline_models=(headline_model,) if headline_model else (),
    )
    if report.locked:
        err.print(
            "another `backtest daily` holds the lock of this runs directory; it does this evening's work"
        )
        return
    if not report.outcomes:
        err.print("no tracked runs (backtest track RUN)")
    for outcome in report.outcomes:
        if outcome.signal is not None:
            out.print(signal_table(signals.read(settings.runs_dir, outcome.name)))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def signal(
    name: Annotated[str, typer.Argument(help="the tracked name")],
    date: Annotated[
        str | None, typer.Option("--date", help="the close it was decided at [default: the newest]")
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the signal `backtest daily` wrote: the weights to hold from the next session."""
    from engine.api import signals

    if date is not None and len(date) != 10:
        raise InputError(f"--date {date!r}: expected YYYY-MM-DD")
    payload = signals.read(resolve_settings(runs_dir).runs_dir, name, date)
    if as_json:
        print(json.dumps(payload, indent=2))
        return
    out.print(signal_table(payload))


def signal_table(payload: dict) -> Table:  # type: ignore[type-arg]
    """The signal as a short table: strategy, which weights (seed mean, ensemble, member), ticker, weight."""
    table = Table(
        title=f"{payload['name']}: decided at the close of {payload['decided_at_close']}, "
        f"hold from {payload['applies_to_session']} (run {payload['run_id']})",
        title_justify="left",
    )
    for col in ("strategy", "weights", "ticker", "weight"):
        table.add_column(col, justify="right" if col == "weight" else "left", no_wrap=True)
    for strategy, per in payload["weights"].items():
        shown = [m for m in ("ensemble", "seed_mean") if m in per] or list(per)[:1]
        for member in shown:
            for ticker, weight in per[member].items():
                table.add_row(strategy, member, ticker, f"{weight * 100:.2f}%")
    return table
