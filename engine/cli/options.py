"""The options that several ``backtest`` commands share, each defined once with its help text.

Typed aliases (``Annotated[type, typer.Option(...)]``): a command's signature lists
one per line, so the help text, names and defaults of an option are the same in
every command that takes it. ``backtest run``'s config options are not here: they are
derived from the RunConfig fields (engine.cli.config_options).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from engine.config.settings import default_dir

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
    dt.datetime | None,
    typer.Option("--start", formats=["%Y-%m-%d"], help="first day of data used"),
]
EndOpt = Annotated[
    dt.datetime | None,
    typer.Option("--end", formats=["%Y-%m-%d"], help="last day of data used"),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="strategy parameter [strategy.]name=value (repeatable)"),
]
RunsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir", help=f"runs directory [default: $STOCKRNN_RUNS_DIR, else {default_dir('runs')}]"
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help=f"cache directory [default: $STOCKRNN_CACHE_DIR, else {default_dir('cache')}]"
    ),
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
DateOnlyOpt = Annotated[
    bool,
    typer.Option(
        "--date-only-same-day",
        help="date-only headlines count as known at that day's close [default: from the next trading day]",
    ),
]
HeadlineColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--headline-column", help="column of a headline file holding the text [default: auto-detected]"
    ),
]
TimeColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--time-column",
        help="column of a headline file holding the publication time [default: auto-detected]",
    ),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", help="zone of headline times written without one [default: America/New_York]"),
]


# `run` only
ConfigFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="run the config in this TOML/YAML file (what `backtest show RUN --config` prints); "
        "options given as well override its values",
    ),
]
AblateHeadlinesOpt = Annotated[
    bool,
    typer.Option("--ablate-headlines", help="also run without the headlines (same seeds); print both"),
]
ProgressFileOpt = Annotated[
    Path | None, typer.Option("--progress-file", hidden=True, help="write progress as JSON here")
]
NoAuditOpt = Annotated[
    bool, typer.Option("--no-audit", help="skip the look-ahead audit of plugins run for the first time")
]

# `audit` only
AuditSeedsOpt = Annotated[
    int, typer.Option("--seeds", min=1, help="seeds to audit stochastic strategies with")
]
CutsOpt = Annotated[int, typer.Option("--cuts", min=1, help="number of cut dates")]
ReplaceSeedOpt = Annotated[
    int | None, typer.Option("--replace-seed", help="seed of the replacement futures [default: random]")
]
AuditWorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="passes run at a time [default: CPU count]")
]
PluginOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--plugin",
        help="a module:Class or file.py:Class strategy that the run folder, config file or spec names, "
        "named again to allow importing it (nothing read from disk imports code by itself) (repeatable)",
    ),
]
NamedModelOpt = Annotated[
    str | None,
    typer.Option(
        "--headline-model",
        help="the headline model (a path) that the run folder or spec names, named again to allow "
        "loading it (nothing read from disk loads a model by itself)",
    ),
]
