"""The ``backtest`` command line.

Exit codes: 0 ok, 2 bad input (a file, row, field or option; one clear line),
1 a failed check or an internal error (a traceback only with ``--debug``).
Results go to stdout (``--json``: one JSON object); progress and warnings to stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from feeds.errors import DataQuirkWarning, InputError

app = typer.Typer(
    name="backtest",
    help="Backtest machine-learned stock strategies honestly against buy-and-hold.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
data_app = typer.Typer(
    help="Market data: fetch from Yahoo into the cache, inspect sources.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
headlines_app = typer.Typer(
    help="News headlines: import and check a source, fill the embedding cache.", no_args_is_help=True
)
app.add_typer(headlines_app, name="headlines")

# Piped output gets 120 columns (rich would use 80) so tables stay readable in logs.
_WIDTH = int(os.environ.get("COLUMNS", "0") or 0) or (None if sys.stdout.isatty() else 120)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits with 1 here; a reader that stops early (`| head`) is not a failure of ours:
        # let engine.exits map it (141, quietly)
        self.quiet = True
        raise BrokenPipeError


out = _Console(width=_WIDTH)
err = _Console(stderr=True, width=_WIDTH)

DataOpt = Annotated[
    str, typer.Option("--data", help="sample | csv:PATH | parquet:PATH | yahoo:TICKER[,TICKER]")
]
TickerOpt = Annotated[
    list[str] | None,
    typer.Option("--ticker", help="ticker(s) to trade (repeatable); names a one-ticker file"),
]
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option("--strategy", help="strategy name, module:Class or file.py:Class (repeatable)"),
]
SeedsOpt = Annotated[
    int | None,
    typer.Option(
        "--seeds",
        min=1,
        max=1000,
        help="number of seeds 0..N-1 for stochastic strategies (1..1000) [default: 10]",
    ),
]
SeedListOpt = Annotated[str | None, typer.Option("--seed-list", help="explicit seeds, e.g. 0,1,2")]
StartOpt = Annotated[
    dt.datetime | None, typer.Option("--start", formats=["%Y-%m-%d"], help="first day of data used")
]
EndOpt = Annotated[
    dt.datetime | None, typer.Option("--end", formats=["%Y-%m-%d"], help="last day of data used")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="strategy parameter [strategy.]name=value (repeatable)"),
]
FrequencyOpt = Annotated[
    str | None, typer.Option("--frequency", help="daily | annual [default: the strategies' own]")
]
RunsDirOpt = Annotated[Path | None, typer.Option("--runs-dir", help="runs directory [env STOCKRNN_RUNS_DIR]")]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="cache directory [env STOCKRNN_CACHE_DIR]")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")]
HeadlinesOpt = Annotated[
    str | None,
    typer.Option(
        "--headlines",
        help="headlines as daily features: csv:PATH | parquet:PATH | rss:PATH_OR_URL | yahoo-news:TICKER",
    ),
]
HeadlineModelOpt = Annotated[
    str,
    typer.Option(
        "--headline-model", help="sentence-transformers model: default (all-MiniLM-L6-v2) or a path"
    ),
]
UniverseOpt = Annotated[
    str | None,
    typer.Option(
        "--universe",
        help="annual picks only among each decision day's members: sp500 (point-in-time, pitindex) "
        "| csv:PATH (ticker,start,end)",
    ),
]
DateOnlyOpt = Annotated[
    bool,
    typer.Option(
        "--date-only-same-day",
        help="date-only headlines count as known at that day's close [default: from the next trading day]",
    ),
]
HeadlineColumnOpt = Annotated[
    str | None,
    typer.Option("--headline-column", help="column of a headline file holding the text [auto-detected]"),
]
TimeColumnOpt = Annotated[
    str | None,
    typer.Option("--time-column", help="column of a headline file holding the publication time [auto]"),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="zone of headline times written without one [America/New_York]"),
]


DividendsOpt = Annotated[
    str,
    typer.Option(
        "--dividends",
        help="reinvest | exclude | csv:PATH (date,dividend[,ticker]: ex-date amounts per share) "
        "[default: reinvest; the S&P 500 index gets its bundled dividends]",
    ),
]
CashRateOpt = Annotated[
    str,
    typer.Option(
        "--cash-rate",
        help="annual rate uninvested cash earns, as a fraction (0.03), or csv:PATH (date,rate) [default: 0]",
    ),
]


def _cash_rate(text: str) -> float | str:
    """--cash-rate: a number stays a number, anything else (csv:PATH) is checked by the config."""
    from feeds.cash import check_rate

    try:
        value = float(text)
    except ValueError:
        return text.strip()
    check_rate(value, "--cash-rate")
    return value


def _settings(runs_dir: Path | None = None, cache_dir: Path | None = None):  # noqa: ANN202
    from engine.settings import Settings

    return Settings.resolve(runs_dir=runs_dir, cache_dir=cache_dir)


def _seeds(seeds: int | None, seed_list: str | None) -> tuple[int, ...]:
    from engine.config import DEFAULT_SEEDS

    if seeds is not None and seed_list is not None:
        raise InputError("give either --seeds N or --seed-list, not both")
    if seed_list is not None:
        try:
            values = tuple(int(s) for s in seed_list.replace(" ", "").split(",") if s)
        except ValueError:
            raise InputError(f"--seed-list {seed_list!r}: expected integers separated by commas") from None
        if not values:
            raise InputError("--seed-list is empty")
        return values
    return tuple(range(seeds)) if seeds is not None else DEFAULT_SEEDS


def _audit_first_use(prepared: Any, cache_dir: Path) -> None:
    """Plugins never audited under their current version or file: audit now (cached); exit 1 on a leak."""
    from engine.first_use import audit_on_first_use

    with err.status("auditing plugins") as status:
        failures = audit_on_first_use(
            prepared.strategies,
            prepared.market,
            prepared.config.seeds,
            cache_dir,
            progress=lambda msg: status.update(msg),
        )
    for label, summary in failures:
        err.print(
            f"[red]strategy {label} failed its first-use look-ahead audit:[/red] {summary} "
            "(fix the plugin; --no-audit runs it anyway)",
            highlight=False,
        )
    if failures:
        raise typer.Exit(1)


def _specs(names: list[str], params: list[str], base: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """StrategySpecs from --strategy names and --param assignments (over ``base`` specs' params)."""
    from engine.config import StrategySpec
    from strategies.params import parse_assignments
    from strategies.registry import resolve

    classes = {name: resolve(name) for name in names}
    values: dict[str, dict[str, Any]] = {name: {} for name in names}
    for spec in base:
        values.setdefault(spec.name, {}).update(spec.params)
    for owner, key, value in parse_assignments(params):
        if owner is not None:
            if owner not in values:
                raise InputError(
                    f"--param {owner}.{key}: strategy {owner!r} is not among --strategy {', '.join(names)}"
                )
            values[owner][key] = value
            continue
        takers = [n for n, cls in classes.items() if key in cls.Params.model_fields]
        if not takers:
            from strategies.params import suggestion

            raise InputError(
                f"--param {key}: none of the strategies ({', '.join(names)}) has a parameter {key!r}"
                + suggestion(key, [cls.Params for cls in classes.values()])
            )
        for name in takers:
            values[name][key] = value
    return tuple(StrategySpec(name=n, params=values[n]) for n in names)


def _config(**kwargs: Any) -> Any:
    from pydantic import ValidationError

    from engine.config import RunConfig

    try:
        return RunConfig(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise InputError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None


@contextmanager
def _progress(enabled: bool = True, file: Path | None = None) -> Iterator[Any]:
    """A progress callback (stage, done, total) drawing bars on stderr, or writing ``file``.

    ``file`` (the dashboard's worker runs): the latest {stage, done, total} as JSON,
    replaced atomically, so a reader never sees half a line.
    """
    if not enabled:
        yield None
        return
    if file is not None:
        from engine.store import write_json_atomic

        began: dict[str, float] = {}

        def record(stage: str, done: int, total: int) -> None:
            now = time.time()  # stage start and now: the page estimates the time left in the stage
            began.setdefault(stage, now)
            write_json_atomic(
                file,
                {"stage": stage, "done": done, "total": total, "stage_started": began[stage], "time": now},
            )

        yield record
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _print_version(value: bool) -> None:
    if value:
        from engine import __version__

        print(f"backtest (stock-rnn) {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    plugins_dir: Annotated[
        list[Path] | None,
        typer.Option("--plugins-dir", help="also load strategies from the *.py files here (repeatable)"),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Backtest machine-learned stock strategies honestly against buy-and-hold."""
    if plugins_dir:
        from strategies.registry import PLUGINS_ENV

        # an environment variable, so dashboard worker runs see the same plugins
        present = [p for p in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]
        os.environ[PLUGINS_ENV] = os.pathsep.join([*(str(p.resolve()) for p in plugins_dir), *present])


# `run` options -> the RunConfig fields they set (for --config FILE with options on top)
_OVERRIDES = {
    "data": ("data",), "tickers": ("ticker",), "seeds": ("seeds", "seed_list"), "start": ("start",),
    "end": ("end",), "frequency": ("frequency",), "cost_bps": ("cost_bps",),
    "slippage_bps": ("slippage_bps",), "execution_lag": ("lag",), "headlines": ("headlines",),
    "headline_model": ("headline_model",), "headline_date_only": ("date_only_same_day",),
    "headline_column": ("headline_column",), "time_column": ("time_column",), "timezone": ("timezone",),
    "universe": ("universe",), "dividends": ("dividends",), "cash_rate": ("cash_rate",),
}  # fmt: skip


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    # compared by name: typer may bring its own copy of click's ParameterSource enum
    return source is not None and source.name == "COMMANDLINE"


def _with_file(
    ctx: typer.Context, path: Path, fields: dict[str, Any], names: list[str], params: list[str]
) -> Any:
    """The config of ``--config FILE``, with the options given on the command line on top."""
    from engine.config_file import load_run_config

    base = load_run_config(path)
    values = base.model_dump()
    values.update({f: fields[f] for f, options in _OVERRIDES.items() if any(_given(ctx, o) for o in options)})
    if names:
        values["strategies"] = _specs(names, params)
    elif params:
        values["strategies"] = _specs([s.name for s in base.strategies], params, base=base.strategies)
    return _config(**values)


@app.command()
def run(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="run the config in this TOML/YAML file (what `backtest show RUN --config` prints); "
            "options given as well override its values",
        ),
    ] = None,
    data: DataOpt = "sample",
    ticker: TickerOpt = None,
    strategy: StrategyOpt = None,
    seeds: SeedsOpt = None,
    seed_list: SeedListOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    cost_bps: Annotated[float, typer.Option("--cost-bps", help="costs per unit of turnover [bps]")] = 5.0,
    slippage_bps: Annotated[
        float, typer.Option("--slippage-bps", help="fill price moved against each trade [bps]")
    ] = 0.0,
    lag: Annotated[
        int, typer.Option("--lag", help="execution lag: 0 fills at the deciding close, 1 at the next")
    ] = 0,
    frequency: FrequencyOpt = None,
    param: ParamOpt = None,
    dividends: DividendsOpt = "reinvest",
    cash_rate: CashRateOpt = "0",
    headlines: HeadlinesOpt = None,
    headline_model: HeadlineModelOpt = "default",
    date_only_same_day: DateOnlyOpt = False,
    universe: UniverseOpt = None,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
    ablate_headlines: Annotated[
        bool,
        typer.Option("--ablate-headlines", help="also run without the headlines (same seeds); print both"),
    ] = False,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
    progress_file: Annotated[
        Path | None, typer.Option("--progress-file", hidden=True, help="write progress as JSON here")
    ] = None,
    no_audit: Annotated[
        bool, typer.Option("--no-audit", help="skip the look-ahead audit of plugins run for the first time")
    ] = False,
) -> None:
    """Run strategies against buy-and-hold and store the run.

    With no options: the moving-average trend baseline against buy-and-hold of the
    S&P 500 on the bundled sample (1990-2022), 5 bps costs.
    """
    from engine.runner import prepare, run_and_store
    from engine.store import RunStore

    settings = _settings(runs_dir, cache_dir)
    names = list(strategy or [])
    fields = dict(
        data=data,
        tickers=tuple(ticker or ()),
        seeds=_seeds(seeds, seed_list),
        start=start.date() if start else None,
        end=end.date() if end else None,
        frequency=frequency,
        cost_bps=cost_bps,
        slippage_bps=slippage_bps,
        execution_lag=lag,
        headlines=headlines,
        headline_model=headline_model,
        headline_date_only="same" if date_only_same_day else "next",
        universe=universe,
        dividends=dividends,
        cash_rate=_cash_rate(cash_rate),
        headline_column=headline_column,
        time_column=time_column,
        timezone=timezone,
    )
    if config_file is not None:
        config = _with_file(ctx, config_file, fields, names, list(param or []))
    else:
        config = _config(**fields, strategies=_specs(names, list(param or [])))
    if ablate_headlines and not config.headlines:
        raise InputError("--ablate-headlines needs --headlines SOURCE")
    store = RunStore(settings.runs_dir)
    with _progress(file=progress_file) as progress:
        prepared = prepare(config, cache_dir=settings.cache_dir, progress=progress)
        if not no_audit:
            _audit_first_use(prepared, settings.cache_dir)
        if prepared.headlines:
            h = prepared.headlines
            err.print(
                f"embeddings: {h['headlines']} headlines, {h['cache_hits']} from the cache, "
                f"{h['embedded']} computed"
            )
        result = run_and_store(prepared, store, progress=progress)
        without = None
        if ablate_headlines:
            plain = prepare(config.model_copy(update={"headlines": None}), cache_dir=settings.cache_dir)
            without = run_and_store(plain, store, progress=progress)
    payload = result.to_dict()
    if without is not None:
        from engine.report import ablation, ablation_table, basis_line

        other = without.to_dict()
        if as_json:
            print(
                json.dumps(
                    {"with": payload, "without": other, "ablation": ablation(payload, other)}, indent=2
                )
            )
            _exit_on_failures(result, without)
            return
        from engine.report import render_run

        out.print("[bold]with headlines[/bold]")
        render_run(payload, out, yearly=False)
        out.print("[bold]without headlines (same seeds)[/bold]")
        render_run(other, out, yearly=False)
        out.print(ablation_table(payload, other))
        out.print(f"[dim]{basis_line(payload)}[/dim]", highlight=False, soft_wrap=True)
        out.print(
            f"[dim]stored: {settings.runs_dir / result.run_id} and {settings.runs_dir / without.run_id}[/dim]"
        )
        _exit_on_failures(result, without)
        return
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        from engine.report import render_run

        render_run(payload, out)
        out.print(f"[dim]stored: {settings.runs_dir / result.run_id}[/dim]")
    _exit_on_failures(result)


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


@app.command()
def audit(
    strategy: Annotated[str, typer.Argument(help="strategy name, module:Class or file.py:Class")],
    data: DataOpt = "sample",
    ticker: TickerOpt = None,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="seeds to audit stochastic strategies with")
    ] = 2,
    start: StartOpt = None,
    end: EndOpt = None,
    param: ParamOpt = None,
    cuts: Annotated[int, typer.Option("--cuts", min=1, help="number of cut dates")] = 8,
    replace_seed: Annotated[
        int | None, typer.Option("--replace-seed", help="seed of the replacement futures [default: random]")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="passes run at a time [default: CPU count]")
    ] = None,
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
    from engine.audit import audit as run_audit
    from engine.progress import ProgressEvent
    from engine.runner import prepare

    settings = _settings(cache_dir=cache_dir)
    specs = _specs([strategy], list(param or []))
    config = _config(
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
    with _progress() as progress:
        prepared = prepare(config, cache_dir=settings.cache_dir, progress=progress)
    instance = prepared.strategies[0]
    with err.status("auditing") as status:
        report = run_audit(
            strategy,
            prepared.market,
            config.seeds,
            params=instance.params.model_dump(),
            cuts=cuts,
            seed=replace_seed,
            workers=workers,
            progress=lambda *event: status.update(
                f"auditing {instance.label()}: {ProgressEvent(*event).describe()}"
            ),
        )
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.passed:
        out.print(f"[green]PASS[/green] {report.summary()}", highlight=False)
    else:
        out.print(f"[red]FAIL[/red] {report.summary()}", highlight=False)
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def update(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    data: Annotated[str | None, typer.Option("--data", help="data spec [default: the run's own]")] = None,
    end: EndOpt = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin",
            help="a module:Class or file.py:Class strategy of the run, named again to allow importing it "
            "(a run folder never imports code by itself) (repeatable)",
        ),
    ] = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Continue a run over the days after its last one, from its checkpoint (stored as a new run).

    Online strategies take one update per new day, in order; the result equals a
    run done in one go over the longer data. Data that end before the run's last
    day are refused.
    """
    from engine.store import RunStore
    from engine.update import update_run

    settings = _settings(runs_dir, cache_dir)
    with _progress() as progress:
        result, message = update_run(
            RunStore(settings.runs_dir),
            run_id,
            data=data,
            end=end.date() if end else None,
            cache_dir=settings.cache_dir,
            progress=progress,
            plugins=tuple(plugin or ()),
        )
    if as_json:
        print(json.dumps(result.to_dict() if result else {"message": message}, indent=2))
        return
    err.print(message)
    if result is not None:
        from engine.report import render_run

        render_run(result.to_dict(), out)


@app.command()
def rerun(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    data: Annotated[
        str | None, typer.Option("--data", help="rerun on these data instead (no comparison is made)")
    ] = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a stored run's config again (a new run) and check the result is identical, bit for bit.

    Refused when the data have changed since (fingerprint), unless --data is given.
    Exit 1 when the result differs on the same data.
    """
    from engine.rerun import rerun as rerun_run
    from engine.store import RunStore

    settings = _settings(runs_dir, cache_dir)
    with _progress() as progress:
        outcome = rerun_run(
            RunStore(settings.runs_dir), run_id, data=data, cache_dir=settings.cache_dir, progress=progress
        )
    payload = outcome.result.to_dict()
    if as_json:
        verdict = {"rerun_of": outcome.original, "compared": outcome.compared, "identical": outcome.identical}
        print(json.dumps({**payload, "rerun": {**verdict, "message": outcome.message}}, indent=2))
    else:
        from engine.report import render_run

        render_run(payload, out)
        out.print(f"[dim]stored: {settings.runs_dir / outcome.result.run_id}[/dim]")
    err.print(outcome.message, highlight=False)
    _exit_on_failures(outcome.result)
    if outcome.compared and not outcome.identical:
        raise typer.Exit(1)


@app.command()
def runs(
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="remove broken runs and .partial leftovers of killed runs (asks first)"),
    ] = False,
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than", min=0, help="with --prune: only leftovers untouched for this many hours"
        ),
    ] = 24.0,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="with --prune: do not ask")] = False,
) -> None:
    """List stored runs with their status and key figures (--prune: clean up leftovers)."""
    from engine.report import runs_table
    from engine.store import RunStore

    settings = _settings(runs_dir)
    store = RunStore(settings.runs_dir)
    if prune:
        _prune(store, older_than, yes)
        return
    infos = store.list()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "run_id": i.run_id,
                        "status": i.status,
                        "error": i.error,
                        "path": str(i.path),
                        "created": i.created,
                        **i.manifest.get("headline", {}),
                    }
                    for i in infos
                ],
                indent=2,
            )
        )
        return
    if not infos:
        out.print(f"no runs in {settings.runs_dir}")
        return
    out.print(runs_table(infos))


def _prune(store: Any, older_than: float, yes: bool) -> None:
    candidates = store.prunable(older_than)
    if not candidates:
        out.print(f"nothing to prune in {store.root} (leftovers older than {older_than:g} h, broken runs)")
        return
    for info in candidates:
        out.print(f"{info.status:10} {info.path}  [dim]{info.error}[/dim]", highlight=False)
    if not yes and not typer.confirm(f"remove these {len(candidates)} folder(s)?", default=False):
        out.print("nothing removed")
        return
    removed = store.prune(candidates)
    out.print(f"removed {len(removed)} folder(s) from {store.root}")


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="also write the run's tearsheet here (one self-contained HTML file)"),
    ] = None,
    as_config: Annotated[
        bool,
        typer.Option("--config", help="print the run's config as a TOML file for `backtest run --config`"),
    ] = False,
) -> None:
    """Print one stored run: the same tables as `backtest run` printed."""
    from engine.report import render_run
    from engine.store import RunStore

    store = RunStore(_settings(runs_dir).runs_dir)
    if as_config:
        from engine.config_file import dump_run_config

        info = store.find(run_id)
        if "config" not in info.manifest:
            raise InputError(f"run {info.run_id}: its manifest has no config ({info.status})")
        data = info.manifest.get("data", {})
        header = [
            f"run {info.run_id} ({info.status}, {info.created}); rerun: backtest run --config FILE",
            f"data {data.get('spec')}: {data.get('first')}..{data.get('last')}, {data.get('days')} days, "
            f"fingerprint {data.get('fingerprint')}",
        ]
        sys.stdout.write(dump_run_config(info.manifest["config"], header))
        return
    info, payload = store.load_metrics(run_id)
    if html is not None:
        from engine import run_notes
        from engine.views import tearsheet_html

        page = tearsheet_html(
            {**payload, "label": run_notes.read(info.path)["label"]},
            store.load_equity(info.run_id),
            store.load_weights(info.run_id),
        )
        try:
            html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--html {html}: cannot write: {exc.strerror or exc}") from None
        err.print(f"tearsheet written to {html}")
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        render_run(payload, out)


@app.command()
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="two or more run ids (or prefixes)")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set stored runs side by side: key figures and per-year yields."""
    from engine.report import basis_lines, compare_table, compare_yearly_table
    from engine.store import RunStore

    store = RunStore(_settings(runs_dir).runs_dir)
    payloads = [store.load_metrics(r)[1] for r in run_ids]
    if as_json:
        print(json.dumps(payloads, indent=2))
        return
    out.print(compare_table(payloads))
    for line in basis_lines(payloads):
        out.print(f"[dim]{line}[/dim]", highlight=False, soft_wrap=True)
    out.print(compare_yearly_table(payloads))
    for line in basis_lines(payloads):
        out.print(f"[dim]{line}[/dim]", highlight=False, soft_wrap=True)


@app.command()
def strategies(as_json: JsonOpt = False) -> None:
    """List available strategies with their parameters and defaults."""
    from strategies.params import describe_params
    from strategies.registry import entries

    rows = []
    for name, items in entries().items():
        if len(items) > 1:
            rows.append(
                {
                    "name": name,
                    "status": "clash",
                    "error": "registered by " + ", ".join(f"{e.source} ({e.target})" for e in items),
                }
            )
            continue
        entry = items[0]
        try:
            cls = entry.load()
        except InputError as exc:
            rows.append({"name": name, "status": "broken", "source": entry.source, "error": str(exc)})
            continue
        style = next(
            b.__name__
            for b in cls.__mro__
            if b.__name__ in ("RuleStrategy", "OnlineStrategy", "WalkForwardStrategy")
        )
        rows.append(
            {
                "name": name,
                "status": "ok",
                "source": entry.source,
                "style": style,
                "frequency": cls.frequency,
                "stochastic": cls.stochastic,
                "summary": cls.summary,
                "params": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "default": p.default,
                        "description": p.description,
                        "constraints": p.constraints,
                    }
                    for p in describe_params(cls.Params)
                ],
            }
        )
    from strategies.registry import skipped_plugins

    rows.extend({"name": s.target, "status": "skipped", "error": s.reason} for s in skipped_plugins())
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title="Strategies", title_justify="left", show_lines=True)
    for col in ("name", "style", "frequency", "parameters (default)", "summary"):
        table.add_column(col)
    for row in rows:
        if row["status"] != "ok":
            table.add_row(row["name"], f"[red]{row['status']}[/red]", "", "", row["error"])
            continue
        params = (
            "\n".join(
                f"{p['name']}={p['default']!r}"
                + (f"  [dim]{p['description']}[/dim]" if p["description"] else "")
                for p in row["params"]
            )
            or "—"
        )
        style = row["style"].removesuffix("Strategy").lower() + (" (seeded)" if row["stochastic"] else "")
        table.add_row(row["name"], style, row["frequency"], params, row["summary"])
    out.print(table)


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Yahoo symbols, e.g. SPY ^GSPC AAPL")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Download daily bars from Yahoo into the cache (incremental refresh); runs read yahoo:TICKER."""
    from feeds import yahoo

    settings = _settings(cache_dir=cache_dir)
    failures = 0
    for ticker in tickers:
        try:
            with err.status(f"fetching {ticker}"):
                report = yahoo.fetch(ticker, settings.cache_dir)
        except InputError as exc:
            err.print(f"error: {exc}")
            failures += 1
            continue
        mode = "full history" if report.full_refresh else "refreshed"
        out.print(
            f"{report.ticker}: {mode}, {report.rows} days {report.first}..{report.last} "
            f"(+{report.added}) -> {report.path}"
        )
    if failures:
        raise typer.Exit(2)


def _headline_report(frame: Any, report: Any, rows: Any, dates: Any, label: str) -> None:
    import numpy as np

    for line in report.lines():
        out.print(line)
    if frame.height == 0:
        return
    stamps = frame["published_at"]
    out.print(
        f"published {stamps.min():%Y-%m-%d %H:%M} .. {stamps.max():%Y-%m-%d %H:%M} UTC; "
        f"{int(frame['date_only'].sum())} date-only (used from the next trading day's close unless "
        "--date-only-same-day)"
    )
    assigned = rows >= 0
    days = np.unique(rows[assigned])
    out.print(
        f"aligned to {label} ({dates[0]}..{dates[-1]}): {int(assigned.sum())} headlines on {days.size} of "
        f"{len(dates)} trading days; {int((~assigned).sum())} outside the data's dates"
    )


@headlines_app.command("import")
def headlines_import(
    source: Annotated[
        str, typer.Argument(help="csv:PATH | parquet:PATH | rss:PATH_OR_URL | yahoo-news:TICKER")
    ],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write cleaned rows with trading_day (.parquet or .csv)")
    ] = None,
    data: DataOpt = "sample",
    date_only_same_day: DateOnlyOpt = False,
    cache_dir: CacheDirOpt = None,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Parse, clean and align headlines to trading days; report what was kept and rejected."""
    from feeds.headline_sources import dump_rows, load_headlines
    from feeds.headlines import assign_trading_days
    from feeds.sources import DataSpec, load_market

    frame, report = load_headlines(
        source, headline_column=headline_column, time_column=time_column, timezone=timezone
    )
    market = load_market(DataSpec.parse(data), cache_dir=_settings(cache_dir=cache_dir).cache_dir)
    rows = assign_trading_days(
        frame["published_at"].to_numpy(),
        frame["date_only"].to_numpy(),
        market.dates,
        date_only_rule="same" if date_only_same_day else "next",
    )
    _headline_report(frame, report, rows, market.dates, data)
    if out_path is not None:
        dump_rows(frame, rows, market.dates, out_path)
        out.print(f"wrote {frame.height} rows to {out_path}")


@headlines_app.command("embed")
def headlines_embed(
    source: Annotated[
        str, typer.Argument(help="csv:PATH | parquet:PATH | rss:PATH_OR_URL | yahoo-news:TICKER")
    ],
    headline_model: HeadlineModelOpt = "default",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="texts per model batch")] = 64,
    cache_dir: CacheDirOpt = None,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Embed a source's headlines into the cache ahead of time (each text once, ever)."""
    from feeds.embeddings import Embedder
    from feeds.headline_sources import load_headlines

    frame, report = load_headlines(
        source, headline_column=headline_column, time_column=time_column, timezone=timezone
    )
    for line in report.lines():
        out.print(line)
    settings = _settings(cache_dir=cache_dir)
    embedder = Embedder(settings.cache_dir, headline_model, batch_size=batch_size)
    try:
        with _progress() as progress:
            _, stats = embedder.embed(
                frame["headline"].to_list(),
                progress=(lambda d, t: progress("embedding", d, t)) if progress else None,
            )
    finally:
        embedder.close()
    out.print(stats.line() + f" -> {settings.cache_dir / 'embeddings.sqlite'}")


@headlines_app.command("info")
def headlines_info(
    source: Annotated[str | None, typer.Argument(help="a headline source to summarize (optional)")] = None,
    data: DataOpt = "sample",
    cache_dir: CacheDirOpt = None,
) -> None:
    """What the embedding cache holds; with SOURCE, also that source's headlines and alignment."""
    from feeds.embeddings import EmbeddingCache

    settings = _settings(cache_dir=cache_dir)
    path = settings.cache_dir / "embeddings.sqlite"
    if path.exists():
        cache = EmbeddingCache(path)
        models = cache.models()
        cache.close()
        for model, dim, count in models:
            out.print(f"cache {path}: {model}: {count} texts x {dim} dims")
        if not models:
            out.print(f"cache {path} is empty")
    else:
        out.print(f"no embedding cache yet at {path}")
    if source:
        headlines_import(source, None, data, False, cache_dir, None, None, None)


@data_app.command("list")
def data_list(cache_dir: CacheDirOpt = None) -> None:
    """Tickers in the Yahoo cache."""
    from feeds import yahoo

    settings = _settings(cache_dir=cache_dir)
    names = yahoo.cached_tickers(settings.cache_dir)
    out.print("\n".join(names) if names else f"the cache {settings.cache_dir / 'yahoo'} is empty")


@data_app.command("info")
def data_info(data: DataOpt = "sample", cache_dir: CacheDirOpt = None) -> None:
    """Tickers, dates and gaps of a data source."""
    from feeds.sources import DataSpec, load_market

    market = load_market(DataSpec.parse(data), cache_dir=_settings(cache_dir=cache_dir).cache_dir)
    table = Table(
        title=f"{data}: {market.n_days} trading days {market.dates[0]}..{market.dates[-1]}",
        title_justify="left",
    )
    for col in ("ticker", "first", "last", "days", "first close", "last close"):
        table.add_column(col)
    import numpy as np

    for i, name in enumerate(market.tickers):
        rows = np.flatnonzero(~np.isnan(market.close[:, i]))
        table.add_row(
            name,
            str(market.dates[rows[0]]),
            str(market.dates[rows[-1]]),
            str(rows.size),
            f"{market.close[rows[0], i]:.4g}",
            f"{market.close[rows[-1], i]:.4g}",
        )
    out.print(table)


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="sweep spec (TOML or YAML)")],
    executor: Annotated[str, typer.Option("--executor", help="local (process pool) or ray")] = "local",
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="parallel cells [default: the CPU count]")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address [default: start one]")
    ] = None,
    runs_dir: RunsDirOpt = None,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Run every cell of a sweep that is not complete yet (re-run to resume); cells are ordinary runs."""
    from engine.store import RunStore
    from engine.sweep import expand, load_spec, run_sweep

    settings = _settings(runs_dir, cache_dir)
    loaded = load_spec(spec)
    cells = expand(loaded)
    err.print(f"sweep {loaded['name']}: {len(cells)} cells, executor {executor}")

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
        )
    except KeyboardInterrupt:
        err.print("interrupted: finished cells are stored; run the same command again to resume")
        raise typer.Exit(130) from None
    out.print(
        f"sweep {outcome.sweep_id}: {outcome.cells} cells; {outcome.skipped} already complete (skipped), "
        f"{len(outcome.done)} run now, {len(outcome.failed)} failed"
        + (f", {outcome.elsewhere} being computed by another process" if outcome.elsewhere else "")
        + f"; {outcome.seconds:.1f} s"
    )
    out.print(f"report: backtest sweep-report {outcome.sweep_id}")
    if outcome.failed:
        raise typer.Exit(1)


@app.command("sweep-report")
def sweep_report(
    sweep_id: Annotated[str, typer.Argument(help="the sweep's name")],
    plot: Annotated[
        Path | None, typer.Option("--plot", help="write the chart here [default: <runs>/sweeps/<id>.html]")
    ] = None,
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per cell: mean CAGR over seeds ± std, share of seeds beating buy-and-hold, Sharpe, deflated Sharpe."""
    from engine.paths import child
    from engine.report import num, pct
    from engine.store import RunStore
    from engine.sweep_report import sweep_rows, write_figure

    settings = _settings(runs_dir)
    default_plot = child(settings.runs_dir / "sweeps", sweep_id, "sweep name", ".html")
    rows = sweep_rows(RunStore(settings.runs_dir), sweep_id)
    path = write_figure(rows, sweep_id, plot or default_plot)
    if as_json:
        print(json.dumps({"sweep": sweep_id, "cells": rows, "plot": str(path)}, indent=2, default=str))
        return
    table = Table(title=f"Sweep {sweep_id} (best first)", title_justify="left", caption_justify="left")
    for col in ("cell", "status", "CAGR mean", "± std", "beat B&H", "Sharpe", "B&H", "PSR best", "DSR best"):
        table.add_column(col, justify="left" if col in ("cell", "status") else "right")
    trials = next((r["trials"] for r in rows if "trials" in r), 0)
    for r in rows:
        if r["status"] != "complete":
            table.add_row(
                r["cell"], f"[red]{r['status']}[/red]", r.get("error", "")[:60], "", "", "", "", "", ""
            )
            continue
        table.add_row(
            r["cell"],
            r["status"],
            pct(r["cagr_mean"]),
            pct(r["cagr_std"]),
            pct(r["share_beating"], digits=0),
            num(r["sharpe_mean"]),
            pct(r["benchmark_cagr"]),
            num(r["psr"]),
            num(r["dsr"]),
        )
    table.caption = (
        f"PSR/DSR: best seed of the cell, daily returns in excess of buy-and-hold; DSR deflated for {trials} "
        f"trials (every seed of every cell). DSR < 0.95: within what chance gives for that many trials. "
        f"Chart: {path}"
    )
    out.print(table)


@app.command("new-strategy")
def new_strategy(
    name: Annotated[str, typer.Argument(help="strategy name, e.g. my-momentum")],
    directory: Annotated[Path, typer.Option("--dir", help="where to create the package")] = Path("."),
) -> None:
    """Write a plugin package (pyproject entry point, strategy module, test) to start from."""
    from engine.scaffold import scaffold

    folder = scaffold(name, directory)
    out.print(f"created {folder}")
    out.print(
        f"next: pip install -e {folder} --no-deps && backtest strategies && python -m pytest {folder}/tests"
    )


@app.command()
def dashboard(
    port: Annotated[int, typer.Option("--port", help="port to serve on")] = 8501,
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    runs_dir: RunsDirOpt = None,
) -> None:
    """Start the Streamlit dashboard (headless) on http://HOST:PORT."""
    app_path = Path(__file__).resolve().parent.parent / "app.py"
    if not app_path.is_file():  # a non-editable install: app.py is a top-level module
        import importlib.util

        spec = importlib.util.find_spec("app")  # find it without running the Streamlit script
        if spec is None or spec.origin is None:
            raise InputError("app.py is not installed with this package")
        app_path = Path(spec.origin)
    env = dict(os.environ)
    if runs_dir:
        env["STOCKRNN_RUNS_DIR"] = str(runs_dir)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",  # no Deploy button: this is a local research tool
    ]
    err.print(f"dashboard on http://{host}:{port}  (Ctrl-C stops it)")
    sys.stdout.flush()
    sys.stderr.flush()
    # become the server: a signal to this process reaches streamlit, no orphan is left behind
    os.execve(sys.executable, command, env)


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``backtest`` console script (exit codes: ``engine.exits``)."""
    from engine.exits import run_command

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    warnings.simplefilter("default", DataQuirkWarning)
    warnings.showwarning = _show_warning  # one line per data quirk, on stderr
    command = typer.main.get_command(app)
    code = run_command(
        lambda: command.main(args=args, prog_name="backtest", standalone_mode=False),
        debug=debug,
        say=lambda line: err.print(line, highlight=False, soft_wrap=True),  # one line, unwrapped
    )
    try:
        sys.stdout.flush()
    except OSError as exc:  # the reader went away after our last write
        from engine.exits import BROKEN_PIPE, is_broken_pipe, silence_stdout

        if not is_broken_pipe(exc):
            raise
        silence_stdout()
        code = BROKEN_PIPE
    sys.exit(code)


if __name__ == "__main__":
    main()
