"""The typed run result (:class:`RunResult`), its JSON Schema, and the function that reads it.

The JSON form is what ``SimulatedRun.to_dict`` writes (engine.pipeline.results): ``metrics.json``
holds it, ``backtest run|show|update --json`` print it. :class:`RunResult` is that
form as typed objects, and every surface reads a run through it (attributes, not
string keys): the terminal report, the dashboard, the sweep report, :mod:`engine.api`
(``Run.result``), external tools through the schema checked in as
``docs/run-result.schema.json``. The engine still writes the dict (``to_dict``): its
key order is the stored and printed one, byte for byte. Read a stored run with
:func:`load_result`, a JSON-form dict with :func:`parse_result`.

Conventions: fractions throughout (0.1 = 10%); dates are ISO ``YYYY-MM-DD`` strings;
a metric that is undefined (NaN or infinite) is ``null``. Every object allows keys
it does not declare, so a reader of this version still accepts the payload of a
later one that added fields; ``tests/engine/store/test_result_schema.py`` checks that
every key the engine writes today is declared here.

Regenerate the checked-in schema after changing a model::

    python -m engine.store.result_schema > docs/run-result.schema.json
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from engine.config.run_config import SURFACE_TAGS, RunConfig
from feeds.errors import InputError

SCHEMA_ID = "urn:stock-rnn:run-result"  # a name, not a download location

Num = float | None  # NaN and infinities are written as null
Member = int | str  # a seed, or "main" (deterministic strategy) / "ensemble"
Year = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]  # a calendar year: "2019"
Yearly = dict[Year, Num]  # calendar year -> yield that year, a fraction


class _Open(BaseModel):
    # open: later versions add keys; a reader of this version must not reject them
    model_config = ConfigDict(extra="allow")


class Period(_Open):
    """The trading period: the days every strategy and benchmark is measured over."""

    start: str = Field(description="first day of the trading period (ISO date)")
    end: str = Field(description="last day of the trading period (ISO date)")
    days: int = Field(description="calendar days from start to end")
    years: float = Field(description="calendar days / 365.25 (the CAGR's exponent)")
    trading_days: int = Field(description="rows of the trading period")


class HeadlinesInfo(_Open):
    """What ``--headlines`` contributed (cache statistics left out: they differ run to run)."""

    spec: str
    model: str


class DataInfo(_Open):
    """Identity of the data the strategies saw (the whole loaded range, warm-up included)."""

    spec: str = Field(description="the --data spec: sample | csv:PATH | parquet:PATH | yahoo:...")
    origin: str = Field(description="where the prices came from")
    tickers: list[str]
    first: str = Field(description="first day of data (ISO date)")
    last: str = Field(description="last day of data (ISO date)")
    days: int = Field(description="rows of data")
    fingerprint: str = Field(description="hash of dates, tickers and prices")
    headlines: HeadlinesInfo | None = None


class Scalars(_Open):
    """The scalar metrics of one portfolio over the trading period (engine.pipeline.metrics)."""

    cagr: Num = Field(description="compound annual growth rate from real dates, a fraction")
    total_return: Num = Field(description="final value / initial value - 1")
    final_value: Num = Field(description="equity at the last close, starting from 1")
    volatility: Num = Field(description="annualized standard deviation of daily returns")
    sharpe: Num = Field(description="annualized Sharpe ratio of daily returns in excess of the cash rate")
    sortino: Num = Field(description="annualized Sortino ratio of daily returns")
    max_drawdown: Num = Field(description="largest peak-to-trough fall, negative fraction")
    calmar: Num = Field(description="CAGR / |max drawdown|")
    exposure: Num = Field(description="share of days with a position")
    avg_exposure: Num = Field(description="mean gross exposure (sum |position| / equity)")
    turnover: Num = Field(description="traded value / mean equity, per year")
    trades: Num = Field(description="orders filled (a seeded strategy's headline: the mean over seeds)")
    hit_rate: Num = Field(description="share of invested days with a positive return")
    yearly: Yearly = Field(description="calendar year -> yield that year (partial years included)")
    # fees: absent (None) in runs stored before they were recorded
    fees_paid: Num = Field(
        None,
        description="fees paid over the period, a fraction of the starting value (= currency units "
        "for a start of 1.0); slippage is in fill prices, not here; absent in older runs",
    )
    yearly_fees: Yearly | None = Field(
        None,
        description="calendar year -> fees paid that year over the value the year's yield starts from; "
        "absent in older runs",
    )


class SeedScalars(Scalars):
    """The metrics of one seed of a stochastic strategy."""

    seed: Member


class Aggregate(_Open):
    """Figures over the seeds of a strategy (the one column of a deterministic one)."""

    n_seeds: int = Field(description="seeds aggregated; 0 for a deterministic strategy")
    cagr_mean: Num
    cagr_std: Num = Field(description="sample standard deviation over seeds (0 with one seed)")
    cagr_median: Num
    cagr_best: Num
    cagr_worst: Num
    sharpe_mean: Num
    max_drawdown_mean: Num
    share_beating_benchmark: Num = Field(description="share of seeds whose CAGR beats the primary benchmark")
    fees_paid_mean: Num = Field(
        None,
        description="mean over seeds of fees paid, a fraction of the starting value; absent in older runs",
    )


class PicksBeatMedian(_Open):
    share: Num = Field(description="share of picks beating the universe's median stock")
    by_year: Yearly
    share_mean_over_seeds: Num


class StrategyEntry(Scalars):
    """One strategy or benchmark; a stochastic one's headline figures are means over its seeds."""

    name: str
    role: str = Field(description='"strategy" or "benchmark"')
    params: dict[str, Any] = Field(description="the strategy's parameters as it ran")
    frequency: str = Field(description='"daily" or "annual" signals')
    stochastic: bool
    tickers: list[str]
    partial_years: list[int] = Field(description="years of `yearly` the period covers only in part")
    aggregate: Aggregate
    excess_cagr: Num = Field(description="CAGR minus the primary benchmark's CAGR")
    seeds: list[SeedScalars] | None = Field(None, description="stochastic strategies: one entry per seed")
    ensemble: Scalars | None = Field(None, description="the ensemble member, where the strategy has one")
    # annual strategies (engine.pipeline.picks); year = the calendar year held
    picks: dict[str, list[str]] | None = Field(None, description="year -> tickers picked")
    pick_returns: dict[str, dict[str, Num]] | None = Field(None, description="year -> ticker -> return")
    universe_median_return: Yearly | None = Field(None, description="year -> the median stock's return")
    picks_by_seed: dict[str, dict[str, int]] | None = Field(
        None, description="year -> ticker -> number of seeds that picked it"
    )
    picks_beat_median: PicksBeatMedian | None = None


class FailedStrategy(_Open):
    name: str
    error: str


class PairedT(_Open):
    t: Num
    p_value: Num
    seeds: int


class BestSeed(_Open):
    seed: Member
    cagr: Num
    excess_sharpe_daily: Num
    excess_sharpe_annual: Num
    skew: Num
    kurtosis: Num
    psr: Num = Field(description="probabilistic Sharpe ratio of the excess returns")
    dsr: Num = Field(description="deflated Sharpe ratio (for the number of trials)")
    trials: int
    expected_max_sharpe_annual: Num
    verdict: str


class RegressionToMean(_Open):
    folds: int
    cagr_by_fold: list[list[Num]] = Field(description="per seed: CAGR in fold 1, fold 2, ...")
    rank_correlation: Num
    best_first_fold_rank_later: int


class Evidence(_Open):
    """Whether a strategy's excess over the primary benchmark is more than luck (engine.pipeline.evidence)."""

    method: str
    excess_cagr_by_seed: list[Num]
    mean_excess_cagr: Num
    mean_excess_ci95: list[Num] = Field(description="bootstrap 95% interval [low, high]")
    p_mean_excess_positive: Num
    share_seeds_beating: Num
    best_seed: BestSeed
    paired_t: PairedT | None = None
    regression_to_mean: RegressionToMean | None = None


class UniverseYear(_Open):
    decision_close: str
    members: int
    with_prices: int
    missing: list[str]
    excluded: list[str]


class UniverseInfo(_Open):
    """What ``--universe`` restricted (engine.pipeline.universe_mask)."""

    spec: str
    description: str
    start: str
    end: str | None
    coverage: dict[str, UniverseYear] = Field(description="year held -> members at the decision close")
    after_data_end: list[str] | None = None


class Basis(_Open):
    """What the run's returns are measured on (engine.pipeline.basis): dividends, cash rate, calendar."""

    dividends: str | dict[str, str] = Field(
        description='"reinvested" | "excluded" | "unknown", or ticker -> status where they differ'
    )
    dividend_sources: dict[str, str] = Field(description="ticker -> where its dividends come from, in words")
    dividends_mode: str = Field(description="the --dividends option: reinvest | exclude | csv:PATH")
    cash_rate: float | str = Field(description="annual rate cash earns (a fraction), or the csv:PATH series")
    cash: str = Field(description="the cash rate in words")
    sharpe: str = Field(description="what Sharpe ratios are measured in excess of")
    calendar: str = Field(description="where trading days and their closes come from")
    flags: list[str] = Field(description="caveats of the basis over this period (series carried forward)")
    statement: str = Field(description="the one line printed under every comparison")


class RunResult(_Open):
    """A finished run in its JSON form: ``metrics.json`` and ``backtest run|show --json``."""

    # read through attributes: result.strategies[0].cagr, result.benchmark.yearly["2019"],
    # result.evidence["lstm-stateful"].best_seed.dsr (the docstring is the schema's description)

    model_config = ConfigDict(extra="allow", title="Stock-RNN run result")

    run_id: str
    period: Period
    data: DataInfo
    config: RunConfig = Field(
        description="everything that determines the run's results (engine.config.run_config)"
    )
    device: str | None = Field(
        None, description="the torch device the strategies ran on (cpu, cuda:0, mps); absent in older runs"
    )
    strategies: list[StrategyEntry]
    benchmark: StrategyEntry = Field(description="the primary benchmark (buy-and-hold of the universe)")
    benchmarks: list[StrategyEntry] = Field(description="every benchmark, primary first")
    notes: list[str]
    failed_strategies: list[FailedStrategy]
    evidence: dict[str, Evidence] = Field(description="strategy name -> evidence against the benchmark")
    calendar: str = Field(description="the exchange calendar behind sessions and closes")
    universe: UniverseInfo | None = None
    basis: Basis | None = Field(None, description="the basis of every comparison; absent in older runs")

    @property
    def entries(self) -> list[StrategyEntry]:
        """Strategies, then benchmarks (primary first): the columns of ``backtest show``."""
        return [*self.strategies, *self.benchmarks]

    @property
    def label(self) -> str | None:
        """A dashboard label attached for display (not part of the stored form); None without one."""
        value = (self.model_extra or {}).get("label")
        return str(value) if value else None


def parse_result(payload: Mapping[str, Any] | RunResult) -> RunResult:
    """The typed result of a run's JSON form (a :class:`RunResult` is returned as it is).

    Raises :class:`feeds.errors.InputError` naming the first field that does not fit
    when ``payload`` is not a run's JSON form (a damaged or hand-edited ``metrics.json``):
    one clear line for the CLI, not a traceback.
    """
    if isinstance(payload, RunResult):
        return payload
    try:
        return RunResult.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        run_id = payload.get("run_id") if isinstance(payload, Mapping) else None
        raise InputError(
            f"run {run_id or '?'}: results do not fit the run-result schema: {where}: {first['msg']}{more}"
        ) from None


def load_result(ref: str = "latest", *, runs_dir: Path | str | None = None) -> RunResult:
    """The typed result of a stored complete run: id, unique id prefix or ``latest``.

    Read through the store's full check of the run's files (``RunStore.load_metrics``);
    ``runs_dir`` as ``--runs-dir`` (default ``$STOCKRNN_RUNS_DIR``, else the platform's).
    Raises :class:`feeds.errors.InputError` for a missing, incomplete or damaged run.
    """
    from engine.config.settings import Settings  # lazy: the store imports the engine's writers
    from engine.store.run_store import RunStore

    root = Settings.resolve(Path(runs_dir) if runs_dir is not None else None).runs_dir
    _, payload = RunStore(root).load_metrics(ref)
    return parse_result(payload)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :class:`RunResult`, as checked into docs/."""
    schema = RunResult.model_json_schema(mode="validation")
    for prop in schema["$defs"]["RunConfig"]["properties"].values():
        for tag in SURFACE_TAGS:
            prop.pop(tag, None)  # how the surfaces offer a setting, not part of a result
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    """The schema as the exact text of ``docs/run-result.schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
