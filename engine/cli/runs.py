"""Commands that compute runs: ``run``, ``update``, ``rerun``.

Each stores what it computed and prints it: tables on stdout, or
one JSON object with ``--json``; progress and failures on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.api import parse_result
from engine.cli.config_options import with_config_options
from engine.cli.console import err, out, progress_bars
from engine.cli.inputs import options_named, resolve_settings, run_options_config
from engine.cli.options import (
    AblateHeadlinesOpt,
    CacheDirOpt,
    ConfigFileOpt,
    EndOpt,
    JsonOpt,
    NamedModelOpt,
    NoAuditOpt,
    ParamOpt,
    PluginOpt,
    ProgressFileOpt,
    RunsDirOpt,
    SeedListOpt,
    SeedsOpt,
    StrategyOpt,
)
from feeds.errors import InputError


@with_config_options(after="config_file")  # one option per RunConfig field: --data, --cost-bps, ...
def run(
    ctx: typer.Context,
    config_file: ConfigFileOpt = None,
    strategy: StrategyOpt = None,
    seeds: SeedsOpt = None,
    seed_list: SeedListOpt = None,
    param: ParamOpt = None,
    ablate_headlines: AblateHeadlinesOpt = False,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    progress_file: ProgressFileOpt = None,
    no_audit: NoAuditOpt = False,
    plugin: PluginOpt = None,
    **config_options: Any,
) -> None:
    """Run strategies against buy-and-hold and store the run.

    With no options: the moving-average trend baseline against buy-and-hold of the
    S&P 500 on the bundled sample (1990-2022), 5 bps costs.
    """
    options = dict(
        config_file=config_file,
        strategy=strategy,
        seeds=seeds,
        seed_list=seed_list,
        param=param,
        plugin=plugin,
    )
    settings = resolve_settings(runs_dir, cache_dir)
    with options_named(ctx):  # "execution_lag: ..." is "--lag: ..." here
        config = run_options_config(ctx, options, config_options)
        if ablate_headlines and not config.headlines:
            raise InputError("--ablate-headlines needs --headlines SOURCE")
        result, without = _compute(config, settings, progress_file, not no_audit, ablate_headlines)
    if without is not None:
        _print_ablation(result, without, settings.runs_dir, as_json)
    elif as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        from engine.cli.report import render_run

        render_run(parse_result(result.to_dict()), out)
        out.print(f"[dim]stored: {settings.runs_dir / result.run_id}[/dim]")
    _exit_on_failures(result, without)


def _compute(
    config: Any, settings: Any, progress_file: Path | None, audit_plugins: bool, ablate: bool
) -> tuple[Any, Any]:
    """Prepare, audit plugins on first use, run and store; with ``ablate`` also without the headlines."""
    from engine.api import RunStore, prepare, run_and_store

    store = RunStore(settings.runs_dir)
    with progress_bars(file=progress_file) as progress:
        prepared = prepare(config, cache_dir=settings.cache_dir, progress=progress)
        if audit_plugins:
            _audit_first_use(prepared, settings.cache_dir)
        if prepared.headlines:
            h = prepared.headlines
            err.print(
                f"embeddings: {h['headlines']} headlines, {h['cache_hits']} from the cache, "
                f"{h['embedded']} computed"
            )
        result = run_and_store(prepared, store, progress=progress)
        without = None
        if ablate:
            plain = prepare(config.model_copy(update={"headlines": None}), cache_dir=settings.cache_dir)
            without = run_and_store(plain, store, progress=progress)
    return result, without


def _print_ablation(result: Any, without: Any, runs_dir: Path, as_json: bool) -> None:
    """Both runs of ``--ablate-headlines`` and their differences (tables, or one JSON object)."""
    from engine.cli.report import ablation, ablation_table, basis_line, render_run

    payload, other = result.to_dict(), without.to_dict()  # the JSON form: printed as it is
    typed, typed_other = parse_result(payload), parse_result(other)
    if as_json:
        both = {"with": payload, "without": other, "ablation": ablation(typed, typed_other)}
        print(json.dumps(both, indent=2))
        return
    out.print("[bold]with headlines[/bold]")
    render_run(typed, out, yearly=False)
    out.print("[bold]without headlines (same seeds)[/bold]")
    render_run(typed_other, out, yearly=False)
    out.print(ablation_table(typed, typed_other))
    out.print(f"[dim]{basis_line(typed)}[/dim]", highlight=False, soft_wrap=True)
    out.print(f"[dim]stored: {runs_dir / result.run_id} and {runs_dir / without.run_id}[/dim]")


def _audit_first_use(prepared: Any, cache_dir: Path) -> None:
    """Plugins never audited under their current version or file: audit now (cached); exit 1 on a leak."""
    from engine.api import ProgressEvent, audit_on_first_use

    with err.status("auditing plugins") as status:
        failures = audit_on_first_use(
            prepared.strategies,
            prepared.market,
            prepared.config.seeds,
            cache_dir,
            progress=lambda *event: status.update(ProgressEvent(*event).describe()),
        )
    for label, summary in failures:
        err.print(
            f"[red]strategy {label} failed its first-use look-ahead audit:[/red] {summary} "
            "(fix the plugin; --no-audit runs it anyway)",
            highlight=False,
        )
    if failures:
        raise typer.Exit(1)


def _exit_on_failures(*results: Any) -> None:
    """Name every failed strategy on stderr and exit 1 if any failed (after the output was printed)."""
    failed = False
    for result in results:
        if result is None:
            continue
        for label, message in result.failures:
            err.print(f"[red]strategy {label} failed:[/red] {message}", highlight=False)
            failed = True
    if failed:
        raise typer.Exit(1)


def update(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    data: Annotated[str | None, typer.Option("--data", help="data spec [default: the run's own]")] = None,
    end: EndOpt = None,
    plugin: PluginOpt = None,
    headline_model: NamedModelOpt = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Continue a run over the days after its last one, from its checkpoint (stored as a new run).

    Online strategies take one update per new day, in order; the result equals a
    run done in one go over the longer data. Data that end before the run's last
    day are refused.
    """
    from engine.api import RunStore, update_run

    settings = resolve_settings(runs_dir, cache_dir)
    with progress_bars() as progress:
        result, message = update_run(
            RunStore(settings.runs_dir),
            run_id,
            data=data,
            end=end.date() if end else None,
            cache_dir=settings.cache_dir,
            progress=progress,
            plugins=tuple(plugin or ()),
            headline_models=(headline_model,) if headline_model else (),
        )
    if as_json:
        print(json.dumps(result.to_dict() if result else {"message": message}, indent=2))
        return
    err.print(message)
    if result is not None:
        from engine.cli.report import render_run

        render_run(parse_result(result.to_dict()), out)


def rerun(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    data: Annotated[
        str | None,
        typer.Option(
            "--data", help="rerun on these data instead (no comparison is made) [default: the run's own]"
        ),
    ] = None,
    plugin: PluginOpt = None,
    headline_model: NamedModelOpt = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a stored run's config again (a new run) and check the result is identical, bit for bit.

    Refused when the data have changed since (fingerprint), unless --data is given.
    Exit 1 when the result differs on the same data.
    """
    from engine.api import RunStore, rerun as rerun_run

    settings = resolve_settings(runs_dir, cache_dir)
    with progress_bars() as progress:
        outcome = rerun_run(
            RunStore(settings.runs_dir),
            run_id,
            data=data,
            cache_dir=settings.cache_dir,
            progress=progress,
            plugins=tuple(plugin or ()),
            headline_models=(headline_model,) if headline_model else (),
        )
    payload = outcome.result.to_dict()
    if as_json:
        verdict = {"rerun_of": outcome.original, "compared": outcome.compared, "identical": outcome.identical}
        print(json.dumps({**payload, "rerun": {**verdict, "message": outcome.message}}, indent=2))
    else:
        from engine.cli.report import render_run

        render_run(parse_result(payload), out)
        out.print(f"[dim]stored: {settings.runs_dir / outcome.result.run_id}[/dim]")
    err.print(outcome.message, highlight=False)
    _exit_on_failures(outcome.result)
    if outcome.compared and not outcome.identical:
        raise typer.Exit(1)
