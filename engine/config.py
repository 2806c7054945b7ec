"""Run configuration: one validated, frozen object per run (stored in its manifest)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_SEEDS = tuple(range(10))
# Seeds per run: each seed is one model in a batched computation, so the count bounds memory.
MAX_SEEDS = 1000
# Seeds feed numpy and torch generators; 32 bits is what every generator we use accepts.
SEED_LIMIT = 2**32
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
    headline_model: str = Field("default", description="sentence-transformers model for headlines")
    headline_date_only: Literal["next", "same"] = Field(
        "next", description="date-only headlines count from the next trading day (or the same day's close)"
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
