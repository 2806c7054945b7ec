"""The Python API: run, load and inspect backtests from a notebook or a script.

A thin layer over the pipeline the ``backtest`` CLI drives (``engine.pipeline.runner``,
``engine.store.run_store``, ``engine.workflows.audit``): the same config makes the same run, stored in
the same runs directory, with the same numbers that ``backtest show`` prints. The
tables come as polars frames; ``.to_pandas()`` turns any of them into pandas.

    import engine

    run = engine.run(strategies=["ma-trend"], start="2015-01-01", seeds=3)
    run.result.strategies[0].cagr   # the typed result (engine.store.result_schema.RunResult)
    run.yearly()          # year x strategy: yield per calendar year (fractions)
    run.equity()          # date, strategy, role, member, equity
    engine.load(run.run_id).summary().to_pandas()

Units: fractions throughout (0.1 = 10%); equity starts at 1. Timing: a weight dated
day t was decided at t's close from data known by then and fills at the close
``execution_lag`` days later (engine.pipeline.timing).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from engine import rows
from engine.config.run_config import RunConfig, StrategySpec
from engine.config.settings import Settings
from engine.config.sweep_spec import (
    expand as expand,
    load_spec as load_spec,
)
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
from engine.pipeline.results import REPORTED, SimulatedRun
from engine.store import (
    run_notes as run_notes,
    run_reader as run_reader,
    tracking as tracking,
    writes as store_writes,
)
from engine.store.result_schema import (
    RunResult,
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
from engine.workflows import (
    daily as daily,
    signals as signals,
)
from engine.workflows.audit import (
    audit as audit,
)
from engine.workflows.audit_report import AuditReport
from engine.workflows.daily import daily as run_daily
from engine.workflows.first_use import (
    audit_on_first_use as audit_on_first_use,
)
from engine.workflows.plugin_check import CheckResult, check_strategy
from engine.workflows.record import (
    run_and_store as run_and_store,
)
from engine.workflows.rerun import (
    rerun as rerun,
)
from engine.workflows.sweep import (
    run_sweep as run_sweep,
)
from engine.workflows.update import (
    update_run as update_run,
)
from feeds.errors import InputError
from strategies.errors import StrategyError

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


@dataclass(frozen=True, eq=False)
class Run:
    """A stored, complete run: its typed result plus the frames stored beside it.

    ``result`` is the run as typed objects (:class:`engine.store.result_schema.RunResult`:
    ``run.result.strategies[0].cagr``), read from ``payload``, its JSON form
    (``metrics.json``, what ``--json`` prints, key order included);
    ``simulated`` the in-memory :class:`engine.pipeline.results.SimulatedRun` (arrays
    included) when this process ran it, else ``None``.
    """

    run_id: str
    path: Path
    payload: dict[str, Any] = field(repr=False)
    simulated: SimulatedRun | None = field(default=None, repr=False)

    @cached_property
    def result(self) -> RunResult:
        """The run as typed objects: ``run.result.strategies[0].cagr``, ``run.result.period.start``."""
        return parse_result(self.payload)

    @property
    def failed(self) -> dict[str, str]:
        """Strategies that failed in this run (name -> error); the others ran."""
        return {f.name: f.error for f in self.result.failed_strategies}

    def to_dict(self) -> dict[str, Any]:
        """The run's JSON form, as ``backtest show RUN --json`` prints it."""
        return self.payload

    def summary(self) -> pl.DataFrame:
        """One row per strategy and benchmark: the scalar metrics (engine.pipeline.metrics), fractions.

        Columns: name, role, stochastic, the metrics in report order, excess_cagr
        (over the primary benchmark), cagr_std (over seeds; 0 when deterministic).
        A stochastic strategy's figures are means over its seeds, as in ``backtest show``.
        """
        rows = [
            {
                "name": e.name,
                "role": e.role,
                "stochastic": e.stochastic,
                **{m: _float(getattr(e, m)) for m in REPORTED},
                "excess_cagr": _float(e.excess_cagr),
                "cagr_std": _float(e.aggregate.cagr_std),
            }
            for e in self.result.entries
        ]
        return pl.DataFrame(rows, schema=_summary_schema(), orient="row")

    def yearly(self) -> pl.DataFrame:
        """Yield per calendar year: column ``year`` (int), ``partial`` (bool), one column per strategy.

        Strategy columns in the order ``backtest show`` prints them (strategies, then
        benchmarks); values are fractions, a stochastic strategy's the mean over its
        seeds; ``partial`` marks a year the trading period covers only in part.
        """
        years = rows.years(self.result)
        columns: dict[str, Any] = {
            "year": pl.Series([int(y.year) for y in years], dtype=pl.Int32),
            "partial": pl.Series([y.partial for y in years], dtype=pl.Boolean),
        }
        for c in rows.yearly_columns(self.result):
            columns[c.name] = pl.Series([_float(c.values.get(y.year)) for y in years], dtype=pl.Float64)
        return pl.DataFrame(columns)

    def seeds(self) -> pl.DataFrame:
        """One row per seed (and ensemble) of each stochastic strategy: strategy, seed, metrics."""
        found = []
        for e in self.result.strategies:
            members: list[tuple[str, Any]] = [(str(s.seed), s) for s in e.seeds or []]
            if e.ensemble:
                members.append(("ensemble", e.ensemble))
            for seed, figures in members:
                found.append(
                    {"strategy": e.name, "seed": seed, **{m: _float(getattr(figures, m)) for m in REPORTED}}
                )
        schema = {"strategy": pl.String, "seed": pl.String, **dict.fromkeys(REPORTED, pl.Float64)}
        return pl.DataFrame(found, schema=schema, orient="row")

    def evidence(self) -> pl.DataFrame:
        """One row per strategy: is its excess CAGR over the primary benchmark more than luck?

        Columns: strategy, mean_excess_cagr with its bootstrap 95% interval
        (ci95_low, ci95_high), p_mean_excess_positive, share_seeds_beating,
        paired_t_p (null with fewer than two seeds), best_seed with its cagr, psr,
        dsr and trials, verdict (engine.pipeline.evidence). Fractions.
        """
        found = []
        for name, ev in self.result.evidence.items():
            low, high = [*ev.mean_excess_ci95, None, None][:2]
            best = ev.best_seed
            found.append(
                {
                    "strategy": name,
                    "mean_excess_cagr": _float(ev.mean_excess_cagr),
                    "ci95_low": _float(low),
                    "ci95_high": _float(high),
                    "p_mean_excess_positive": _float(ev.p_mean_excess_positive),
                    "share_seeds_beating": _float(ev.share_seeds_beating),
                    "paired_t_p": _float(ev.paired_t.p_value if ev.paired_t else None),
                    "best_seed": str(best.seed),
                    "best_seed_cagr": _float(best.cagr),
                    "psr": _float(best.psr),
                    "dsr": _float(best.dsr),
                    "trials": best.trials,
                    "verdict": best.verdict,
                }
            )
        return pl.DataFrame(found, schema=_EVIDENCE_SCHEMA, orient="row")

    def equity(self) -> pl.DataFrame:
        """Equity at each close of the trading period: date, strategy, role, member, equity (from 1)."""
        return RunStore(self.path.parent).load_equity(self.run_id)

    def weights(self) -> pl.DataFrame:
        """Target weights on decision rows: date, strategy, role, member, ticker, weight.

        A row dated t was decided at t's close; it fills ``execution_lag`` closes later.
        """
        return RunStore(self.path.parent).load_weights(self.run_id)


_EVIDENCE_SCHEMA: dict[str, Any] = {
    "strategy": pl.String,
    "mean_excess_cagr": pl.Float64,
    "ci95_low": pl.Float64,
    "ci95_high": pl.Float64,
    "p_mean_excess_positive": pl.Float64,
    "share_seeds_beating": pl.Float64,
    "paired_t_p": pl.Float64,
    "best_seed": pl.String,
    "best_seed_cagr": pl.Float64,
    "psr": pl.Float64,
    "dsr": pl.Float64,
    "trials": pl.Int64,
    "verdict": pl.String,
}


def _summary_schema() -> dict[str, Any]:
    return {
        "name": pl.String,
        "role": pl.String,
        "stochastic": pl.Boolean,
        **dict.fromkeys(REPORTED, pl.Float64),
        "excess_cagr": pl.Float64,
        "cagr_std": pl.Float64,
    }


def _float(value: Any) -> float | None:
    # the JSON form writes undefined metrics as null; frames hold them as null too
    return None if value is None else float(value)


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
