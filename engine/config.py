"""Run configuration: one validated, frozen object per run (stored in its manifest)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_SEEDS = tuple(range(10))
DEFAULT_STRATEGIES = {"daily": ("ma-trend",), "annual": ("momentum-annual",)}


class StrategySpec(BaseModel):
    """A strategy to run: registry name (or module:Class) and parameter overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class RunConfig(BaseModel):
    """Everything that determines a run's results (with the data itself)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str = "sample"
    tickers: tuple[str, ...] = ()
    strategies: tuple[StrategySpec, ...] = ()
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    start: dt.date | None = None
    end: dt.date | None = None
    frequency: Literal["daily", "annual"] | None = None
    cost_bps: float = Field(5.0, ge=0, le=10_000, description="costs per unit of traded value [bps]")
    slippage_bps: float = Field(0.0, ge=0, le=10_000, description="fill price moved against the trade [bps]")
    execution_lag: int = Field(0, ge=0, le=5, description="closes between decision and fill")
    max_leverage: float = Field(1.0, gt=0, le=10, description="largest allowed sum of |weights|")
    headlines: str | None = Field(None, description="headline source added as daily features (csv:PATH, ...)")
    headline_model: str = Field("default", description="sentence-transformers model for headlines")
    headline_date_only: Literal["next", "same"] = Field(
        "next", description="date-only headlines count from the next trading day (or the same day's close)"
    )
    universe: str | None = Field(
        None, description="point-in-time universe of annual picks: sp500 (pitindex) or csv:PATH"
    )
    dividends: str = Field(
        "reinvest", description="reinvest | exclude | csv:PATH (ex-date amounts); see engine.basis"
    )
    cash_rate: float | str = Field(0.0, description="annual rate cash earns (0.03) or csv:PATH of date,rate")

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")
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
