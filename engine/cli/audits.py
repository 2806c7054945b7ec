"""``backtest audit``: a strategy checked for look-ahead (exit 1 on a leak)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from engine.cli.console import err, out, progress_bars
from engine.cli.inputs import options_named, resolve_settings, run_config, strategy_specs
from engine.cli.options import (
    AuditSeedsOpt,
    AuditWorkersOpt,
    CacheDirOpt,
    CutsOpt,
    DataOpt,
    DateOnlyOpt,
    EndOpt,
    HeadlineColumnOpt,
    HeadlineModelOpt,
    HeadlinesOpt,
    JsonOpt,
    ParamOpt,
    ReplaceSeedOpt,
    StartOpt,
    TickerOpt,
    TimeColumnOpt,
    TimezoneOpt,
)


def audit(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help="strategy name, module:Class or file.py:Class")],
    data: DataOpt = "sample",
    ticker: TickerOpt = None,
    seeds: AuditSeedsOpt = 2,
    start: StartOpt = None,
    end: EndOpt = None,
    param: ParamOpt = None,
    cuts: CutsOpt = 8,
    replace_seed: ReplaceSeedOpt = None,
    workers: AuditWorkersOpt = None,
    headlines: HeadlinesOpt = None,
    headline_model: HeadlineModelOpt = "default",
    date_only_same_day: DateOnlyOpt = False,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a strategy for look-ahead: truncate the data and replace the future at several dates.

    Every pass runs in a fresh process holding only its own data. Exit code 1 when a
    leak is found (the first day whose decision changed is named), when two
    identical runs differ, or when the strategy raises.
    """
    from engine.api import prepare

    with options_named(ctx):  # errors name --start, not start
        settings = resolve_settings(cache_dir=cache_dir)
        specs = strategy_specs([strategy], list(param or []))
        config = run_config(
            data=data,
            tickers=tuple(ticker or ()),
            strategies=specs,
            seeds=tuple(range(seeds)),
            start=start.date() if start else None,
            end=end.date() if end else None,
            headlines=headlines,
            headline_model=headline_model,
            headline_date_only="same" if date_only_same_day else "next",
            headline_column=headline_column,
            time_column=time_column,
            timezone=timezone,
        )
        with progress_bars() as progress:
            prepared = prepare(config, cache_dir=settings.cache_dir, progress=progress)
    report = _audit_passes(strategy, prepared, config.seeds, cuts=cuts, seed=replace_seed, workers=workers)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        verdict = "[green]PASS[/green]" if report.passed else "[red]FAIL[/red]"
        out.print(f"{verdict} {report.summary()}", highlight=False)
    if not report.passed:
        raise typer.Exit(1)


def _audit_passes(
    strategy: str, prepared: Any, seeds: tuple[int, ...], *, cuts: int, seed: int | None, workers: int | None
) -> Any:
    """The look-ahead audit of the prepared run's one strategy, its progress on a status line."""
    from engine.api import ProgressEvent, audit as run_audit

    instance = prepared.strategies[0]
    with err.status("auditing") as status:
        return run_audit(
            strategy,
            prepared.market,
            seeds,
            params=instance.params.model_dump(),
            cuts=cuts,
            seed=seed,
            workers=workers,
            progress=lambda *event: status.update(
                f"auditing {instance.label()}: {ProgressEvent(*event).describe()}"
            ),
        )
