"""Terminal reports: undefined figures print as '—', never crash a run or `show`."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from engine.cli import main
from engine.cli.report import evidence_lines, fit, render_run
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


# --- Terminal tables fit 80, 100 and 120 columns without cutting a number (issue 29).

# a figure followed or preceded by an ellipsis: "1…", "…%", "-74.5…"
_CUT = re.compile(r"[0-9%]…|…[0-9%+-]")


def _backtest(args: list[str], runs: Path, columns: int) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "STOCKRNN_RUNS_DIR": str(runs)}
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    runs = tmp_path_factory.mktemp("runs")
    base = ["run", "--seed-list", "0,1", "--json"]
    daily = ["--strategy", "lstm-stateful", "--strategy", "lstm-stateless", "--start", "2012-01-01"]
    annual = ["--frequency", "annual", "--strategy", "momentum-annual", "--strategy", "lstm-annual"]
    _backtest([*base, *daily], runs, 120)
    _backtest([*base, *annual, "--strategy", "transformer-annual", "--start", "2010-01-01"], runs, 120)
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))
    return runs, ids


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 100, 120])
def test_no_cut_number(stored: tuple[Path, list[str]], columns: int) -> None:
    runs, ids = stored
    assert len(ids) == 2
    outputs = [_backtest(["show", run], runs, columns) for run in ids]
    outputs.append(_backtest(["compare", *ids], runs, columns))
    outputs.append(_backtest(["runs"], runs, columns))
    for text in outputs:
        assert not _CUT.search(text), text
        assert "CAGR" in text
    show = outputs[0]
    assert show.count("basis:") == 1  # the basis line once per run output
    assert all(len(line) <= columns for line in show.splitlines() if "basis:" not in line)


def test_wide_keeps_every_column(stored: tuple[Path, list[str]]) -> None:
    runs, ids = stored
    narrow = _backtest(["show", ids[0]], runs, 80)
    wide = _backtest(["show", ids[0], "--wide"], runs, 80)
    assert "in mkt" not in narrow and "not shown at 80 columns" in narrow
    assert "in mkt" in wide


def test_compare_refuses_one_run(stored: tuple[Path, list[str]]) -> None:
    runs, ids = stored
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs)}
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "compare", ids[0]], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "two or more" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("columns", [70, 80, 90, 100, 120])
def test_fit_keeps_every_cell_and_header_word_on_one_line(columns: int) -> None:
    """After columns are dropped, every shown cell and header word is printed whole on one line
    (rich pads a table's edge columns by their index: a stale one squeezed a figure's "%" onto
    the next line at 90 and 100 columns)."""
    table = Table(box=box.SIMPLE_HEAVY, pad_edge=False)
    headers = [
        "strategy",
        "CAGR",
        "vs B&H",
        "± std",
        "worst .. best",
        "beat B&H",
        "Sharpe",
        "max DD",
        "vol",
        "in mkt",
    ]
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    cells = [
        "lstm-stateful ensemble",
        "12.61%",
        "+2.78%",
        "0.34%",
        "12.06% .. 13.05%",
        "100%",
        "0.82",
        "-24.15%",
    ]
    table.add_row(*cells, "16.08%", "81%")
    console = Console(record=True, width=columns, file=io.StringIO())
    fitted = fit(table, console, ("vol", "worst .. best", "in mkt", "± std", "Sharpe", "beat B&H", "max DD"))
    console.print(fitted, crop=False)
    lines = console.export_text().splitlines()
    shown = {str(c.header): c for c in fitted.columns}
    for column in list(shown.values())[1:]:
        for cell in column._cells:
            assert any(cell in line for line in lines), (cell, lines)
        for word in str(column.header).split():
            assert any(re.search(rf"(^|\s){re.escape(word)}(\s|$)", line) for line in lines), (word, lines)
    assert all(len(line) <= columns for line in lines)
