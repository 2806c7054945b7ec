"""Run configuration: one validated, frozen object per run (stored in its manifest).

The same models validate a run's config file (``backtest run --config FILE``), the
config stored with every run (``backtest rerun``) and each cell of a sweep spec
(:class:`SweepSpec`): unknown keys are rejected, by name, with the closest known
key as a suggestion (:func:`explain`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class HeadlineOptions(BaseModel):
    """How headline files are read: the fields shared by runs and sweeps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    headline_model: str = Field("default", description="sentence-transformers model for headlines")
    headline_date_only: Literal["next", "same"] = Field(
        "next", description="date-only headlines count from the next trading day (or the same day's close)"
    )
    headline_column: str | None = Field(None, description="column holding the headline text [auto-detected]")
    time_column: str | None = Field(None, description="column holding the publication time [auto-detected]")
    timezone: str | None = Field(
        None, description="IANA zone of times written without one [default: America/New_York]"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            from feeds.headlines import parse_zone

            parse_zone(value)  # raises InputError (a ValueError) naming the zone
        return value


class RunConfig(HeadlineOptions):
    """Everything that determines a run's results (with the data itself)."""

    data: str = "sample"
    tickers: tuple[str, ...] = ()
    strategies: tuple[StrategySpec, ...] = ()
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    start: dt.date | None = None
    end: dt.date | None = None
    frequency: Literal["daily", "annual"] | None = None
    cost_bps: float = Field(
        5.0, allow_inf_nan=False, ge=0, le=10_000, description="costs per unit of traded value [bps]"
    )
    slippage_bps: float = Field(
        0.0, allow_inf_nan=False, ge=0, le=10_000, description="fill price moved against the trade [bps]"
    )
    execution_lag: int = Field(0, ge=0, le=5, description="closes between decision and fill")
    max_leverage: float = Field(
        1.0, allow_inf_nan=False, gt=0, le=10, description="largest allowed sum of |weights|"
    )
    headlines: str | None = Field(None, description="headline source added as daily features (csv:PATH, ...)")
    universe: str | None = Field(
        None, description="point-in-time universe of annual picks: sp500 (pitindex) or csv:PATH"
    )
    dividends: str = Field(
        "reinvest", description="reinvest | exclude | csv:PATH (ex-date amounts); see engine.pipeline.basis"
    )
    cash_rate: float | str = Field(0.0, description="annual rate cash earns (0.03) or csv:PATH of date,rate")
    device: str = Field(
        "auto",
        description="where torch models run: auto (the GPU when torch sees one, else cpu), cpu, cuda, "
        "cuda:N or mps; the numba LSTM kernel always runs on the CPU",
    )

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        return _check_device(value)

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
        if not (self.dividends in ("reinvest", "exclude") or self.dividends.startswith("csv:")):
            raise ValueError(f"dividends {self.dividends!r}: expected reinvest, exclude or csv:PATH")
        if isinstance(self.cash_rate, str) and not self.cash_rate.startswith("csv:"):
            raise ValueError(f"cash_rate {self.cash_rate!r}: expected a number (0.03) or csv:PATH")
        if isinstance(self.cash_rate, float) and not -1.0 < self.cash_rate <= 1.0:
            raise ValueError(
                f"cash_rate {self.cash_rate:g}: an annual fraction in (-1, 1] (0.03 = 3%); "
                "divide percentages by 100"
            )
        return self

    def headline_options(self) -> dict[str, Any]:
        """The keyword arguments of ``feeds.headline_sources.load_headlines`` for this run."""
        return {
            "headline_column": self.headline_column,
            "time_column": self.time_column,
            "timezone": self.timezone,
        }


class SweepStrategy(BaseModel):
    """One ``[[strategies]]`` entry of a sweep: fixed ``params`` crossed with a ``grid`` of values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)


class SweepSpec(HeadlineOptions):
    """A sweep spec (see ``engine.workflows.sweep``): every RunConfig field, some of them as axes."""

    name: str
    strategies: list[SweepStrategy] = Field(min_length=1)
    data: str | list[str] = "sample"
    seeds: int | list[int] = 10
    periods: list[tuple[dt.date | None, dt.date | None] | None] = Field(default_factory=lambda: [None])
    tickers: list[list[str] | None] = Field(default_factory=lambda: [None])
    headlines: str | bool | list[str | bool | None] | None = None
    frequency: Literal["daily", "annual"] | None = None
    cost_bps: float = Field(RunConfig.model_fields["cost_bps"].default, allow_inf_nan=False, ge=0, le=10_000)
    slippage_bps: float = Field(0.0, allow_inf_nan=False, ge=0, le=10_000)
    execution_lag: int = Field(0, ge=0, le=5)
    max_leverage: float = Field(1.0, allow_inf_nan=False, gt=0, le=10)
    universe: str | None = None
    dividends: str = "reinvest"
    cash_rate: float | str = 0.0
    device: str = "auto"

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        return _check_device(value)

    @field_validator("headlines")
    @classmethod
    def _headlines(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                raise ValueError("headlines: true is not a source; give csv:PATH (or false for off)")
        return value

    def common(self) -> dict[str, Any]:
        """The RunConfig fields that are the same in every cell."""
        axes = ("data", "seeds", "tickers", "headlines", "strategies")  # expanded per cell (sweep_grid)
        names = [n for n in type(self).model_fields if n in RunConfig.model_fields and n not in axes]
        return {n: getattr(self, n) for n in names}


def _check_device(value: str) -> str:
    if not DEVICE_NAMES.fullmatch(value):
        raise ValueError(f"device {value!r}: expected auto, cpu, cuda, cuda:N or mps")
    return value


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
