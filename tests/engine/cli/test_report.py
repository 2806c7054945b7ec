"""Terminal reports: undefined figures print as '—', never crash a run or `show`."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from engine.cli import main
from engine.cli.report import evidence_lines, render_run
from engine.store.result_schema import Evidence, RunResult, StrategyEntry


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_a_strategy_equal_to_buy_and_hold_prints_a_dash_for_psr(capsys):
    # excess returns over buy-and-hold are all zero: PSR/DSR are undefined (None)
    code, out, err = cli(capsys, "run", "--strategy", "buy-and-hold", "--start", "2018-01-01")
    assert code == 0, err
    assert "PSR —" in out and "internal error" not in err
    code, shown, err = cli(capsys, "show", "latest")
    assert code == 0, err
    assert "PSR —" in shown


def test_evidence_lines_accept_every_undefined_figure():
    # every figure the schema lets be undefined (null) is None; counts and names stay defined
    best = {
        **dict.fromkeys(("cagr", "excess_sharpe_daily", "excess_sharpe_annual", "skew", "kurtosis")),
        **dict.fromkeys(("psr", "dsr", "expected_max_sharpe_annual")),
        "seed": 0,
        "trials": 2,
        "verdict": "",
    }
    block = {
        "mean_excess_ci95": [None, None],
        "mean_excess_cagr": None,
        "p_mean_excess_positive": None,
        "excess_cagr_by_seed": [None, None],
        "share_seeds_beating": None,
        "paired_t": {"t": None, "p_value": None, "seeds": 2},
        "best_seed": best,
        "regression_to_mean": {
            "folds": 2,
            "cagr_by_fold": [[None, None]],
            "rank_correlation": None,
            "best_first_fold_rank_later": 1,
        },
        "method": "m",
    }
    result = RunResult.model_construct(
        benchmark=StrategyEntry.model_construct(name="buy-and-hold"),
        evidence={"x": Evidence.model_validate(block)},
        basis=None,
    )
    lines = evidence_lines(result)
    assert any("PSR —" in line for line in lines)
    assert any("verdict" not in line and line.endswith(": —") for line in lines)
    json.dumps(block)
    render = Console(record=True, width=120)
    for line in lines:
        render.print(line)
    assert render_run  # imported for the public surface
