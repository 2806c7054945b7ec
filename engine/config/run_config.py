"""Run configuration: one validated, frozen object per run (stored in its manifest).

The same models validate a run's config file (``backtest run --config FILE``), the
config stored with every run (``backtest rerun``) and each cell of a sweep spec
(:class:`SweepSpec`): unknown keys are rejected, by name, with the closest known
key as a suggestion (:func:`explain`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from feeds.errors import InputError

DEFAULT_SEEDS = tuple(range(10))
# Seeds per run: each seed is one model in a batched computation, so the count bounds memory.
MAX_SEEDS = 1000
# Seeds feed numpy and torch generators; 32 bits is what every generator we use accepts.
SEED_LIMIT = 2**32
DEFAULT_STRATEGIES = {"daily": ("ma-trend",), "annual": ("momentum-annual",)}
# The names of the device setting (strategies.nn.device resolves them; checked here without importing torch).
DEVICE_NAMES = re.compile(r"auto|cpu|cuda|cuda:\d{1,2}|mps")


class StrategySpec(BaseModel):
    """A strategy to run: registry name (or module:Class) and parameter overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


# What each RunConfig field tells the surfaces (its ``json_schema_extra``; every key optional):
#   cli      the ``backtest run`` flag ("--lag"); False: the command spells the option itself
#   flag     a two-valued setting given as a bare flag: the value the flag selects
#   data     the loaded data depend on it (sweep cells with equal such fields share their data)
#   axis     a sweep spec gives it as an axis of the grid (its own type there), not as one value
#   form     False: the dashboard draws its own widget (data, strategies, seeds, dates, signals)
#   label    the dashboard widget's label [default: the field name]
#   keyed    in every sweep cell key; other fields only when not at their default, so a field
#            added later leaves the keys of cells stored before it unchanged
#   path     its ``csv:PATH`` / ``parquet:PATH`` value names a file (checked before any data load)
# The rest comes from the field itself: type, default, bounds, description (the help text).
# engine.config.fields reads them; nothing else names a field to offer it. They are the
# surfaces' business, not the result's: the run-result JSON Schema leaves them out.
SURFACE_TAGS = frozenset({"cli", "flag", "data", "axis", "form", "label", "keyed", "path"})


def _zone(value: str | None) -> str | None:
    if value is not None:
        from feeds.headlines import parse_zone

        parse_zone(value)  # raises InputError (a ValueError) naming the zone
    return value


def _check_device(value: str) -> str:
    if not DEVICE_NAMES.fullmatch(value):
        raise ValueError(f"device {value!r}: expected auto, cpu, cuda, cuda:N or mps")
    return value


def _check_dividends(value: str) -> str:
    if not (value in ("reinvest", "exclude") or value.startswith("csv:")):
        raise ValueError(f"dividends {value!r}: expected reinvest, exclude or csv:PATH")
    return value


def _rate_text(value: Any) -> Any:
    """A rate written as text (``--cash-rate 0.03``, a form field) is the number; csv:PATH stays text."""
    if not isinstance(value, str):
        return value
    text = value.strip() or "0"
    if text.startswith("csv:"):
        return text
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"cash_rate {value!r}: expected a number (0.03) or csv:PATH") from None


def _check_rate(value: float | str) -> float | str:
    if isinstance(value, str) and not value.startswith("csv:"):
        raise ValueError(f"cash_rate {value!r}: expected a number (0.03) or csv:PATH")
    if isinstance(value, float) and not (math.isfinite(value) and -1.0 < value <= 1.0):
        raise ValueError(
            f"rate {value:g} is not an annual fraction in (-1, 1] (0.03 = 3%); divide percentages by 100"
        )
    return value


# Typed values: the validation travels with the type (into SweepSpec's copy of the field, too).
Timezone = Annotated[str | None, AfterValidator(_zone)]
Device = Annotated[str, AfterValidator(_check_device)]
Dividends = Annotated[str, AfterValidator(_check_dividends)]
CashRate = Annotated[float | str, BeforeValidator(_rate_text), AfterValidator(_check_rate)]
_KEYED: dict[str, Any] = {"keyed": True}


class HeadlineOptions(BaseModel):
    """How headline files are read (listed after ``headlines`` in a config file)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    headline_model: str = Field(
        "default",
        description="sentence-transformers model: default (all-MiniLM-L6-v2) or a path",
        json_schema_extra={"data": True, "keyed": True},
    )
    headline_date_only: Literal["next", "same"] = Field(
        "next",
        description="date-only headlines count as known at that day's close [default: from the next "
        "trading day]",
        json_schema_extra={"data": True, "keyed": True, "cli": "--date-only-same-day", "flag": "same"},
    )
    headline_column: str | None = Field(
        None,
        description="column of a headline file holding the text [auto-detected]",
        json_schema_extra={"data": True},
    )
    time_column: str | None = Field(
        None,
        description="column of a headline file holding the publication time [auto]",
        json_schema_extra={"data": True},
    )
    timezone: Timezone = Field(
        None,
        description="zone of headline times written without one [America/New_York]",
        json_schema_extra={"data": True, "label": "zone of times without one [America/New_York]"},
    )


class RunConfig(HeadlineOptions):
    """Everything that determines a run's results (with the data itself).

    Each field is the one spelling of a setting: ``backtest run``'s options, config
    files, sweep specs, the dashboard's run form and the sweep keys are derived from
    these fields (engine.config.fields), with their defaults, bounds and help text.
    """

    data: str = Field(
        "sample",
        description="sample | csv:PATH | parquet:PATH | yahoo:TICKER[,TICKER]",
        json_schema_extra={"data": True, "axis": True, "form": False, "keyed": True},
    )
    tickers: tuple[str, ...] = Field(
        (),
        description="ticker(s) to trade (repeatable); names a one-ticker file",
        json_schema_extra={"data": True, "axis": True, "form": False, "keyed": True, "cli": "--ticker"},
    )
    strategies: tuple[StrategySpec, ...] = Field(
        (), json_schema_extra={"axis": True, "form": False, "keyed": True, "cli": False}
    )
    seeds: tuple[int, ...] = Field(
        DEFAULT_SEEDS, json_schema_extra={"axis": True, "form": False, "keyed": True, "cli": False}
    )
    start: dt.date | None = Field(
        None,
        description="first day of data used",
        json_schema_extra={"data": True, "axis": True, "form": False, "keyed": True},
    )
    end: dt.date | None = Field(
        None,
        description="last day of data used",
        json_schema_extra={"data": True, "axis": True, "form": False, "keyed": True},
    )
    frequency: Literal["daily", "annual"] | None = Field(
        None,
        description="daily | annual [default: the strategies' own]",
        json_schema_extra={"form": False, "keyed": True},
    )
    cost_bps: float = Field(
        5.0,
        allow_inf_nan=False,
        ge=0,
        le=10_000,
        description="costs per unit of turnover (traded value) [bps]",
        json_schema_extra={"keyed": True, "label": "costs [bps per unit traded]"},
    )
    slippage_bps: float = Field(
        0.0,
        allow_inf_nan=False,
        ge=0,
        le=10_000,
        description="fill price moved against each trade [bps]",
        json_schema_extra=_KEYED,
    )
    execution_lag: int = Field(
        0,
        ge=0,
        le=5,
        description="execution lag: closes between decision and fill (0 fills at the deciding close, "
        "1 at the next)",
        json_schema_extra={"keyed": True, "cli": "--lag"},
    )
    max_leverage: float = Field(
        1.0, allow_inf_nan=False, gt=0, le=10, description="largest allowed sum of |weights|",
        json_schema_extra=_KEYED,
    )  # fmt: skip
    headlines: str | None = Field(
        None,
        description="headlines as daily features: csv:PATH | parquet:PATH | rss:PATH_OR_URL | "
        "yahoo-news:TICKER",
        json_schema_extra={"data": True, "axis": True, "keyed": True, "label": "headlines (optional)"},
    )
    universe: str | None = Field(
        None,
        description="annual picks only among each decision day's members: sp500 (point-in-time, "
        "pitindex) | csv:PATH (ticker,start,end)",
        json_schema_extra={"path": True, "label": "point-in-time universe (optional)"},
    )
    dividends: Dividends = Field(
        "reinvest",
        description="reinvest | exclude | csv:PATH (date,dividend[,ticker]: ex-date amounts per share) "
        "[default: reinvest; the S&P 500 index gets its bundled dividends]",
        json_schema_extra={"keyed": True, "path": True},
    )
    cash_rate: CashRate = Field(
        0.0,
        description="annual rate uninvested cash earns, as a fraction (0.03), or csv:PATH (date,rate)",
        json_schema_extra={"keyed": True, "path": True, "label": "cash rate (annual fraction)"},
    )
    device: Device = Field(
        "auto",
        description="where torch models and the headline embedder run: auto (the GPU when torch sees "
        "one) | cpu | cuda | cuda:N | mps; the numba LSTM kernel runs on the CPU",
    )

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")
        if len(self.seeds) > MAX_SEEDS:
            raise ValueError(f"{len(self.seeds)} seeds: at most {MAX_SEEDS} per run")
        bad = next((s for s in self.seeds if not 0 <= s < SEED_LIMIT), None)
        if bad is not None:
            raise ValueError(f"seed {bad}: seeds are integers from 0 to {SEED_LIMIT - 1}")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds must be distinct")
        return self

    def headline_options(self) -> dict[str, Any]:
        """The keyword arguments of ``feeds.headline_sources.load_headlines`` for this run."""
        return {
            "headline_column": self.headline_column,
            "time_column": self.time_column,
            "timezone": self.timezone,
        }


def explain(exc: ValidationError, model: type[BaseModel], where: str) -> InputError:
    """One line for the first problem of ``exc``: the key path, and for unknown keys the closest known one."""
    first = exc.errors()[0]
    loc = tuple(first["loc"])
    path = _path(loc)
    if first["type"] == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.5)
        if hint:
            return InputError(f"{where}: unknown key {path!r}; did you mean {hint[0]!r}?")
        return InputError(f"{where}: unknown key {path!r} (known: {', '.join(known)})")
    message = str(first["msg"]).removeprefix("Value error, ")
    return InputError(f"{where}: {path + ': ' if path else ''}{message}")


def validate(model: type[BaseModel], values: Any, where: str) -> Any:
    """``model.model_validate(values)``, bad input raised as one :class:`InputError` line."""
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a table of keys, got {type(values).__name__}")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise explain(exc, model, where) from None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model that sits at ``loc`` inside ``model`` (list indices skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if (
            not (isinstance(current, type) and issubclass(current, BaseModel))
            or part not in current.model_fields
        ):
            return []
        current = _inner_model(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The BaseModel class inside ``list[X]``, ``tuple[X, ...]``, ``X | None`` (or None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None
