"""The Python API: run, load and inspect backtests from a notebook or a script.

A thin layer over the pipeline the ``backtest`` CLI drives (``engine.pipeline.runner``,
``engine.store.run_store``, ``engine.workflows.audit``): the same config makes the same run, stored in
the same runs directory, with the same numbers that ``backtest show`` prints. A run
comes back as a :class:`Run` (engine.rows.stored_run) whose tables are polars frames;
``.to_pandas()`` turns any of them into pandas.

    import engine

    run = engine.run(strategies=["ma-trend"], start="2015-01-01", seeds=3)
    run.result.strategies[0].cagr   # the typed result (engine.store.result_schema.RunResult)
    run.yearly()          # year x strategy: yield per calendar year (fractions)
    run.equity()          # date, strategy, role, member, equity
    engine.load(run.run_id).summary().to_pandas()

Units: fractions throughout (0.1 = 10%); equity starts at 1. Timing: a weight dated
day t was decided at t's close from data known by then and fills at the close
``execution_lag`` days later, unless that close is the data's last (not traded:
engine.pipeline.timing).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from engine.config.run_config import RunConfig, StrategySpec
from engine.config.settings import Settings
from engine.config.trust import (
    check_config as check_config,
    check_spec as check_spec,
)

# The surfaces (engine/cli, engine/dashboard) reach the pipeline, the store and the workflows only
# through these names (tests/test_layers.py): one door.
from engine.pipeline.exits import (
    BROKEN_PIPE as BROKEN_PIPE,
    FAILED as EXITS_FAILED,
    INTERRUPTED as INTERRUPTED,
    OK as OK,
    error_code as error_code,
    is_broken_pipe as is_broken_pipe,
    silence_stdout as silence_stdout,
)
from engine.pipeline.metrics import (
    DAYS_PER_YEAR as DAYS_PER_YEAR,
)
from engine.pipeline.prepare import (
    prepare as prepare,
)
from engine.pipeline.progress import (
    Progress,
    ProgressEvent as ProgressEvent,
)
from engine.rows.stored_run import Run
from engine.store import (
    run_notes as run_notes,
    run_reader as run_reader,
    tracking as tracking,
    writes as store_writes,
)
from engine.store.result_schema import (
    RunResult as RunResult,
    StrategyEntry as StrategyEntry,
    UniverseInfo as UniverseInfo,
    load_result,
    parse_result,
)
from engine.store.run_store import (
    CANCELLED as CANCELLED,
    COMPLETE as COMPLETE,
    FAILED as RUN_STORE_FAILED,
    INCOMPLETE as INCOMPLETE,
    PARTIAL as PARTIAL,
    RunInfo as RunInfo,
    RunStore,
    write_json_atomic as write_json_atomic,
)
from engine.workflows.first_use import (
    audit_on_first_use as audit_on_first_use,
)
from engine.workflows.record import (
    run_and_store as run_and_store,
)
from feeds.errors import InputError
from strategies.errors import StrategyError

if TYPE_CHECKING:
    from engine.config.sweep_spec import expand, load_spec
    from engine.workflows import daily, signals
    from engine.workflows.audit import audit
    from engine.workflows.audit_report import AuditReport
    from engine.workflows.daily import daily as run_daily
    from engine.workflows.plugin_check import CheckResult, check_strategy
    from engine.workflows.rerun import rerun
    from engine.workflows.sweep import run_sweep
    from engine.workflows.update import update_run

# name -> (module, attribute; None: the module itself): what a `backtest run` does not use, imported
# on first use so that a run does not pay for the audit, sweep and daily workflows' imports
_LAZY: dict[str, tuple[str, str | None]] = {
    "expand": ("engine.config.sweep_spec", "expand"),
    "load_spec": ("engine.config.sweep_spec", "load_spec"),
    "daily": ("engine.workflows.daily", None),
    "signals": ("engine.workflows.signals", None),
    "audit": ("engine.workflows.audit", "audit"),
    "AuditReport": ("engine.workflows.audit_report", "AuditReport"),
    "run_daily": ("engine.workflows.daily", "daily"),
    "CheckResult": ("engine.workflows.plugin_check", "CheckResult"),
    "check_strategy": ("engine.workflows.plugin_check", "check_strategy"),
    "rerun": ("engine.workflows.rerun", "rerun"),
    "run_sweep": ("engine.workflows.sweep", "run_sweep"),
    "update_run": ("engine.workflows.update", "update_run"),
}


def __getattr__(name: str) -> Any:
    """The names of :data:`_LAZY`, imported on first access (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = import_module(module)
    value = value if attribute is None else getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# the public API (docs/python-api.md), then the names the surfaces reach through the door
__all__ = [
    "CheckResult",
    "Run",
    "RunResult",
    "audit_strategy",
    "check_strategy",
    "load",
    "load_result",
    "make_config",
    "run",
    "runs",
]
__all__ += [
    "BROKEN_PIPE",
    "CANCELLED",
    "COMPLETE",
    "DAYS_PER_YEAR",
    "EXITS_FAILED",
    "INCOMPLETE",
    "INTERRUPTED",
    "OK",
    "PARTIAL",
    "RUN_STORE_FAILED",
    "Progress",
    "ProgressEvent",
    "RunInfo",
    "RunStore",
    "StrategyEntry",
    "UniverseInfo",
    "audit",
    "audit_on_first_use",
    "check_config",
    "check_spec",
    "daily",
    "error_code",
    "expand",
    "is_broken_pipe",
    "load_spec",
    "parse_result",
    "prepare",
    "rerun",
    "run_and_store",
    "run_daily",
    "run_notes",
    "run_sweep",
    "signals",
    "silence_stdout",
    "store_writes",
    "tracking",
    "update_run",
    "write_json_atomic",
]

StrategiesArg = Iterable[str | tuple[str, Mapping[str, Any]] | StrategySpec] | Mapping[str, Mapping[str, Any]]


def make_config(config: RunConfig | None = None, **fields: Any) -> RunConfig:
    """A validated :class:`RunConfig` from ``config`` updated with ``fields``.

    Conveniences over the model's own fields: ``strategies`` as names, ``(name,
    params)`` pairs or a ``{name: params}`` mapping; ``seeds`` as a count N
    (seeds 0..N-1) or explicit seeds; ``tickers`` as one string; dates as
    ``"YYYY-MM-DD"``. Invalid values raise pydantic's ``ValidationError``; a strategy
    named twice raises :class:`InputError` (results are keyed by strategy name).
    """
    if "strategies" in fields:
        fields["strategies"] = _specs(fields["strategies"])
        names = [spec.name for spec in fields["strategies"]]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            # results are keyed by strategy name (evidence, frames): variants need runs of their own
            raise InputError(
                f"strategy {', '.join(twice)} is given twice; run each variant separately (or as a sweep)"
            )
    if isinstance(fields.get("seeds"), int):
        fields["seeds"] = tuple(range(fields["seeds"]))
    if isinstance(fields.get("tickers"), str):
        fields["tickers"] = (fields["tickers"],)
    base = config.model_dump() if config is not None else {}
    return RunConfig.model_validate({**base, **fields})


def _specs(strategies: StrategiesArg) -> tuple[StrategySpec, ...]:
    if isinstance(strategies, Mapping):
        return tuple(StrategySpec(name=n, params=dict(p)) for n, p in strategies.items())
    if isinstance(strategies, str):
        strategies = [strategies]
    specs = []
    for item in strategies:
        if isinstance(item, StrategySpec):
            specs.append(item)
        elif isinstance(item, str):
            specs.append(StrategySpec(name=item))
        else:
            name, params = item
            specs.append(StrategySpec(name=name, params=dict(params)))
    return tuple(specs)


def run(
    config: RunConfig | None = None,
    /,
    *,
    runs_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
    audit_plugins: bool = False,
    **fields: Any,
) -> Run:
    """Run a backtest and store it, as ``backtest run`` does; return the stored :class:`Run`.

    ``config`` and/or ``fields`` (see :func:`make_config`) say what to run; with
    neither, the CLI's default run (moving-average trend against buy-and-hold on the
    bundled sample). ``runs_dir``/``cache_dir``: as ``--runs-dir``/``--cache-dir``
    (default: ``$STOCKRNN_RUNS_DIR``/``$STOCKRNN_CACHE_DIR``, else the platform's).
    Bad input raises :class:`feeds.errors.InputError`; a strategy that fails is
    recorded in ``Run.failed`` with a warning while the others run.
    ``audit_plugins``: audit plugins on first use, as ``backtest run`` does
    (engine.workflows.first_use); a plugin that fails raises :class:`StrategyError` before the run.
    """
    from engine.pipeline.prepare import prepare
    from engine.workflows.record import run_and_store

    settings = Settings.resolve(_path(runs_dir), _path(cache_dir))
    prepared = prepare(make_config(config, **fields), cache_dir=settings.cache_dir, progress=progress)
    if audit_plugins:
        from engine.workflows.first_use import audit_on_first_use

        failed = audit_on_first_use(
            prepared.strategies, prepared.market, prepared.config.seeds, settings.cache_dir, progress=progress
        )
        if failed:
            raise StrategyError(
                "; ".join(
                    f"strategy {label} failed its first-use look-ahead audit: {why}" for label, why in failed
                )
            )
    result = run_and_store(prepared, RunStore(settings.runs_dir), progress=progress)
    for label, message in result.failures:
        warnings.warn(f"strategy {label} failed: {message}", stacklevel=2)
    return Run(
        result.run_id, settings.runs_dir / result.run_id, result.to_dict(), result
    )  # typed on first use


def load(ref: str = "latest", *, runs_dir: Path | str | None = None) -> Run:
    """A stored complete run by id, unique id prefix or ``latest`` (``backtest show``'s argument).

    ``load(ref).result`` is the typed result; :func:`engine.store.result_schema.load_result`
    reads only that, without the frames.
    """
    info, payload = RunStore(Settings.resolve(_path(runs_dir)).runs_dir).load_metrics(ref)
    return Run(info.run_id, info.path, payload)


def runs(*, runs_dir: Path | str | None = None) -> pl.DataFrame:
    """Stored runs, newest first, as ``backtest runs --json`` lists them (broken ones included).

    Columns: run_id, status, created, period, strategy (the first strategy), cagr and
    benchmark_cagr (fractions a year, e.g. 0.0459; null where the run has none), error, path.
    """
    infos = RunStore(Settings.resolve(_path(runs_dir)).runs_dir).list()
    rows = []
    for i in infos:
        headline = i.manifest.get("headline", {}) if isinstance(i.manifest, dict) else {}
        rows.append(
            {
                "run_id": i.run_id,
                "status": i.status,
                "created": i.created,
                "period": str(headline.get("period", "")),
                "strategy": str(headline.get("strategy", "")),
                "cagr": _headline_fraction(headline, "cagr"),
                "benchmark_cagr": _headline_fraction(headline, "benchmark_cagr"),
                "error": i.error,
                "path": str(i.path),
            }
        )
    schema = {
        **dict.fromkeys(("run_id", "status", "created", "period", "strategy"), pl.String),
        "cagr": pl.Float64,
        "benchmark_cagr": pl.Float64,
        "error": pl.String,
        "path": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def _headline_fraction(headline: dict[str, Any], key: str) -> float | None:
    """A listing figure as a fraction: the stored value, or its "4.59%" text (runs stored before that)."""
    value = headline.get(f"{key}_value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return _fraction(headline.get(key))


def _fraction(value: Any) -> float | None:
    """A listing's stored figure ("4.59%", or a number) as a fraction; None where absent."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value or "").strip().replace(",", "")
    try:
        # via Decimal so "4.59%" is the float nearest 0.0459, not 4.59 / 100
        return float(Decimal(text[:-1]) / 100) if text.endswith("%") else float(text)
    except (ValueError, ArithmeticError):
        return None


def audit_strategy(
    strategy: str | tuple[str, Mapping[str, Any]],
    *,
    cuts: int = 8,
    seeds: int = 2,
    cache_dir: Path | str | None = None,
    **fields: Any,
) -> AuditReport:
    """Check ``strategy`` for look-ahead, as ``backtest audit`` does (engine.workflows.audit).

    ``strategy``: a name (or ``(name, params)``); ``seeds``: audit seeds 0..N-1;
    ``fields``: the data to audit on (``data``, ``tickers``, ``start``, ``end``,
    ``headlines``, ...; see :func:`make_config`). The report's ``passed`` is False
    with the first leaking date named when a past weight changed with the future.
    """
    from engine.pipeline.prepare import prepare
    from engine.workflows.audit import audit as run_audit

    settings = Settings.resolve(cache_dir=_path(cache_dir))
    config = make_config(strategies=[strategy], seeds=seeds, **fields)
    prepared = prepare(config, cache_dir=settings.cache_dir)
    instance = prepared.strategies[0]
    cls, params = type(instance), instance.params
    return run_audit(
        lambda: cls(params), prepared.market, config.seeds, cuts=cuts, max_leverage=config.max_leverage
    )


def _path(value: Path | str | None) -> Path | None:
    return Path(value) if value is not None else None
