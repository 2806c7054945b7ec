"""engine.config.run_config: the sweep spec's copy of a run setting has the run config's default, bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engine.config.run_config import RunConfig
from engine.config.sweep_spec import SweepSpec


@pytest.mark.parametrize("name", ["cost_bps", "slippage_bps", "max_leverage"])
def test_sweep_spec_rejects_non_finite_costs_as_run_config_does(name: str) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        RunConfig(**{name: float("nan")})
    with pytest.raises(ValidationError, match="finite number"):
        SweepSpec(name="s", strategies=[{"name": "ma-trend"}], **{name: float("inf")})


def test_sweep_spec_default_cost_is_the_run_config_default() -> None:
    spec = SweepSpec(name="s", strategies=[{"name": "ma-trend"}])
    assert spec.cost_bps == RunConfig.model_fields["cost_bps"].default
