"""The implausibility flag: long runs with a Sharpe no honest strategy has are flagged, luck is not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from engine.pipeline.plausibility import implausible
from tests.conftest import business_days


def equity(sharpe: float, days: int, seed: int = 0) -> np.ndarray:
    """An equity curve whose daily returns have annualized Sharpe about ``sharpe``."""
    rng = np.random.default_rng(seed)
    vol = 0.01
    r = rng.normal(sharpe * vol / np.sqrt(252), vol, size=days)
    r = (r - r.mean()) / r.std(ddof=1) * vol + sharpe * vol / np.sqrt(261)  # exact Sharpe
    return np.concatenate([[1.0], np.cumprod(1 + r)])[:, None]


def test_index_like_and_lucky_short_runs_are_not_flagged():
    dates = business_days("2000-01-03", 261 * 10 + 1)
    assert implausible(equity(0.5, 261 * 10), dates) is None
    assert implausible(equity(2.5, 261 * 10), dates) is None  # below the flag
    short = business_days("2000-01-03", 262)
    assert implausible(equity(3.5, 261), short) is None  # one year: luck is possible


def test_a_long_run_with_sharpe_four_is_flagged():
    dates = business_days("2000-01-03", 261 * 5 + 1)
    found = implausible(equity(4.0, 261 * 5), dates)
    assert found is not None and found["sharpe_annual"] == pytest.approx(4.0, abs=0.1)
    assert found["psr_above_ceiling"] >= 0.999


@pytest.mark.slow
def test_a_plugin_reading_the_price_file_passes_nothing_but_is_flagged_in_the_run(capsys):
    spec = "tests/fixtures/leaky_channels.py:ReadsPriceFile"
    with pytest.raises(SystemExit) as info:
        main(["run", "--strategy", spec, "--start", "2012-01-01", "--json"])
    assert info.value.code == 0
    payload = json.loads(capsys.readouterr().out)
    warnings = [n for n in payload["notes"] if n.startswith("WARNING implausible")]
    assert len(warnings) == 1 and "backtest audit" in warnings[0]
    block = payload["evidence"]["leak-file"]
    assert block["implausible"]["sharpe_annual"] > 3
    assert "unlikely to be" not in block["best_seed"]["verdict"]
    with pytest.raises(SystemExit) as info:
        main(["run", "--start", "2012-01-01", "--json"])  # the honest baseline: no warning
    payload = json.loads(capsys.readouterr().out)
    assert not [n for n in payload["notes"] if n.startswith("WARNING")]
