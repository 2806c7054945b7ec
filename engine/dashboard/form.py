"""The dashboard's run form, checked before anything runs.

The page collects raw widget values; :func:`check_run_form` validates all of them
at once (every bad field, not the first one) against the same models the CLI uses
(``RunConfig`` and each strategy's ``Params``), and returns either the exact
:class:`RunConfig` that will run or a reason per field. The page disables Run while
any reason is present, so a rejected value is never silently replaced by a default.
The checked config itself goes to the worker process (engine.dashboard.jobs, as
JSON), so what runs is what was checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.config.fields import Setting, settings
from engine.config.run_config import RunConfig, StrategySpec
from feeds.errors import InputError
from feeds.sources import DataSpec

# widget keys of the form's fields (the page shows each reason beside its widget)
DATA, STRATEGIES, SEEDS, START, END, COST, HEADLINES = (
    "data",
    "strategies",
    "seeds",
    "start",
    "end",
    "cost-bps",
    "headlines",
)
DIVIDENDS, CASH_RATE, UNIVERSE, TIMEZONE = "dividends", "cash-rate", "universe", "timezone"
MAX_SEEDS = 100


# the RunConfig fields the page draws a widget of its own for (the others: form_settings)
DRAWN = (
    "cost_bps", "headlines", "headline_column", "time_column", "timezone", "dividends", "cash_rate",
    "universe",
)  # fmt: skip


def form_settings() -> list[Setting]:
    """The RunConfig fields the form offers: all but those tagged ``form: False`` (data, strategies,
    seeds, dates, signals), each with a widget from its type, default, bounds and description."""
    return [s for s in settings() if s.extra("form", True)]


def setting(name: str) -> Setting:
    """One RunConfig field as the form offers it (its default, label and help from the field)."""
    return next(s for s in settings() if s.name == name)


def param_key(strategy: str, name: str) -> str:
    """Widget key of one strategy parameter."""
    return f"param-{strategy}-{name}"


@dataclass
class FormCheck:
    """The outcome of checking the form: a config to run, or a reason per widget key."""

    config: RunConfig | None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.errors


def data_spec(source: str, path: str = "", tickers: list[str] | None = None) -> tuple[str | None, str]:
    """The ``--data`` spec of the form's data choice, or (None, reason)."""
    if source == "sample":
        return "sample", ""
    if source == "yahoo":
        if not tickers:
            return None, "choose at least one cached ticker"
        return "yahoo:" + ",".join(tickers), ""
    text = path.strip()
    if not text:
        return None, "give the path of a CSV or Parquet file"
    try:
        spec = DataSpec.parse(text)
    except InputError:
        return None, "expected a .csv or .parquet file, or csv:PATH / parquet:PATH"
    if spec.scheme not in ("csv", "parquet"):
        return None, "expected a .csv or .parquet file, or csv:PATH / parquet:PATH"
    if not Path(spec.target).expanduser().is_file():
        return None, f"no such file: {spec.target}"
    return str(spec), ""


def _message(error: dict[str, Any]) -> str:
    """A pydantic error as a short sentence with the rejected value."""
    got = error.get("input")
    shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
    return f"{error['msg']}{shown}"


def check_params(model: type[BaseModel], values: dict[str, Any]) -> dict[str, str]:
    """Every invalid parameter of one strategy: name -> reason (empty when all are valid)."""
    try:
        model.model_validate(values)
    except ValidationError as exc:
        out: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            out.setdefault(name, _message(error))
        return out
    return {}


def check_run_form(
    *,
    data: str | None,
    data_error: str = "",
    data_range: tuple[dt.date, dt.date] | None = None,
    frequency: str,
    strategies: dict[str, dict[str, Any]],
    params_models: dict[str, type[BaseModel]],
    stochastic: bool,
    seeds: int,
    start: dt.date | None,
    end: dt.date | None,
    cost_bps: float,
    headlines: str = "",
    headline_column: str = "",
    time_column: str = "",
    timezone: str = "",
    dividends: str = "reinvest",
    cash_rate: str = "0",
    universe: str = "",
    **more: Any,
) -> FormCheck:
    """Check every field of the run form; ``strategies``: name -> non-default parameter values.

    ``data_range`` (first, last day of the data, when it could be read) bounds the
    dates; ``stochastic`` (any chosen strategy draws seeds): deterministic runs get
    one seed, so they are not described as "10 seeds". ``more``: the values of the other
    fields of :func:`form_settings` by name (text as typed: the field's type parses it).
    """
    errors = _choice_errors(data, data_error, frequency, strategies, params_models, seeds)
    errors.update(_date_errors(data_range, start, end))
    text, div_text, uni_text = headlines.strip(), dividends.strip() or "reinvest", universe.strip()
    rate, rate_error = _cash_rate(cash_rate)
    errors.update(_source_errors(text, rate_error, div_text, uni_text, frequency))
    config, invalid = _validated(
        dict(
            data=data or "sample",
            strategies=tuple(StrategySpec(name=n, params=v) for n, v in strategies.items()),
            seeds=tuple(range(seeds if stochastic and 1 <= seeds <= MAX_SEEDS else 1)),
            start=start,
            end=end,
            frequency=frequency,
            cost_bps=cost_bps,
            headlines=text or None,
            headline_column=headline_column.strip() or None,
            time_column=time_column.strip() or None,
            timezone=timezone.strip() or None,
            dividends=div_text,
            cash_rate=rate,
            universe=uni_text or None,
            **{k: (None if v == "" and _optional(k) else v) for k, v in more.items()},
        )
    )
    for key, reason in invalid.items():
        errors.setdefault(key, reason)
    return FormCheck(None if errors else config, errors)


def _choice_errors(
    data: str | None,
    data_error: str,
    frequency: str,
    strategies: dict[str, dict[str, Any]],
    params_models: dict[str, type[BaseModel]],
    seeds: int,
) -> dict[str, str]:
    """No data, no strategy, invalid parameters (each under its widget), seeds out of range."""
    errors: dict[str, str] = {}
    if data is None:
        errors[DATA] = data_error or "choose the data"
    if not strategies:
        errors[STRATEGIES] = f"choose at least one {frequency} strategy"
    for name, values in strategies.items():
        for pname, reason in check_params(params_models[name], values).items():
            errors[param_key(name, pname)] = reason
    if not 1 <= seeds <= MAX_SEEDS:
        errors[SEEDS] = f"between 1 and {MAX_SEEDS} seeds (got {seeds})"
    return errors


def _validated(fields: dict[str, Any]) -> tuple[RunConfig | None, dict[str, str]]:
    """``RunConfig(**fields)``, or None and the first reason per widget key."""
    try:
        return RunConfig(**fields), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = str(error["loc"][0]) if error["loc"] else ""
            key = _CONFIG_KEYS.get(loc, END if "start" in error["msg"] else SEEDS)
            errors.setdefault(key, _message(error))
        return None, errors


def _optional(name: str) -> bool:
    return next((s.optional for s in settings() if s.name == name), False)


# RunConfig fields -> the widget their errors are shown under (other fields: seeds; "start" in a message: end)
_CONFIG_KEYS = {s.name: s.widget for s in settings() if s.name not in ("seeds", "strategies")}


def _source_errors(
    headlines: str, rate_error: str, dividends: str, universe: str, frequency: str
) -> dict[str, str]:
    """Headline, cash-rate, dividend and universe sources that cannot be meant (the feeds check the rest)."""
    errors: dict[str, str] = {}
    if headlines and ":" not in headlines:
        errors[HEADLINES] = "expected csv:PATH, rss:PATH_OR_URL or yahoo-news:TICKER"
    if rate_error:
        errors[CASH_RATE] = rate_error
    if dividends not in ("reinvest", "exclude") and not dividends.startswith("csv:"):
        errors[DIVIDENDS] = "reinvest, exclude or csv:PATH (date,dividend)"
    if universe and frequency != "annual":
        errors[UNIVERSE] = "a point-in-time universe restricts annual picks: choose annual signals"
    return errors


def _date_errors(
    data_range: tuple[dt.date, dt.date] | None, start: dt.date | None, end: dt.date | None
) -> dict[str, str]:
    """Dates outside the data (``data_range``: its first and last day) or in the wrong order."""
    errors: dict[str, str] = {}
    if data_range is not None:
        first, last = data_range
        if start is not None and start >= last:
            errors[START] = f"the data end on {last}; start before that"
        if end is not None and end <= first:
            errors[END] = f"the data begin on {first}; end after that"
    if start is not None and end is not None and start >= end:
        errors[END] = f"end {end} is not after start {start}"
    return errors


def _cash_rate(text: str) -> tuple[float | str, str]:
    """The cash rate field as an annual fraction or a csv:PATH, and the reason it is refused ("" if not)."""
    rate_text = text.strip() or "0"
    if rate_text.startswith("csv:"):
        return rate_text, ""
    try:
        rate = float(rate_text)
    except ValueError:
        return 0.0, "an annual rate as a fraction (0.03 = 3%) or csv:PATH of date,rate"
    if not -1.0 < rate <= 1.0:
        return rate, f"{rate_text} is not an annual fraction in (-1, 1] (0.03 = 3%)"
    return rate, ""
