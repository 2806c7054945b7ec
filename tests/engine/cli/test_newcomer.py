"""What a newcomer meets first (issue 29's small items): one-line errors, --param on the default strategy,
parameter choices listed, p-values, the API's fractions."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.rows.evidence_block import p_text
from tests.conftest import random_walk_market, write_yahoo_csv


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_param_without_strategy_sets_the_default_strategy(capsys, tmp_path):
    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(700))
    code, out, err = cli(
        capsys,
        "run",
        "--data",
        f"csv:{csv}",
        "--param",
        "window=50",
        "--json",
        "--runs-dir",
        str(tmp_path / "runs"),
    )
    assert code == 0, err
    payload = json.loads(out)
    spec = payload["config"]["strategies"][0]
    assert spec["name"] == "ma-trend" and int(spec["params"]["window"]) == 50


def test_param_typo_without_strategy_gets_did_you_mean(capsys, tmp_path):
    code, _, err = cli(capsys, "run", "--param", "windo=50", "--runs-dir", str(tmp_path / "runs"))
    assert code == 2
    assert "did you mean 'window'?" in err and len(err.strip().splitlines()) == 1


def test_strategies_json_lists_choices_and_ranges(capsys):
    code, out, _ = cli(capsys, "strategies", "--json")
    assert code in (0, None)
    rows = {r["name"]: {p["name"]: p for p in r["params"]} for r in json.loads(out) if r["status"] == "ok"}
    optimizer = rows["lstm-stateful"]["optimizer"]
    assert optimizer["type"] == "choice" and "adam" in optimizer["choices"]
    assert rows["lstm-stateful"]["lr"]["maximum"] == 1.0


def test_compare_needs_two_runs(capsys, tmp_path):
    code, _, err = cli(capsys, "compare", "latest", "--runs-dir", str(tmp_path))
    assert code == 2 and "compare needs two or more runs" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04rest-of-a-zip", "looks like an Excel file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1xx", "Excel"),
    ],
)
def test_a_spreadsheet_renamed_csv_is_named(capsys, tmp_path, content, message):
    (tmp_path / "x.csv").write_bytes(content)
    code, _, err = cli(
        capsys, "run", "--data", f"csv:{tmp_path / 'x.csv'}", "--runs-dir", str(tmp_path / "r")
    )
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_directory_as_data_says_so(capsys, tmp_path):
    code, _, err = cli(capsys, "run", "--data", f"csv:{tmp_path}", "--runs-dir", str(tmp_path / "r"))
    assert code == 2 and "is a directory" in err


def test_p_values_below_the_third_decimal():
    assert p_text(0.0001) == "p < 0.001"
    assert p_text(0.042) == "p = 0.042"


def test_api_runs_gives_fractions(tmp_path):
    import engine

    csv = write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(700))
    run = engine.run(data=f"csv:{csv}", runs_dir=tmp_path / "runs")
    frame = engine.runs(runs_dir=tmp_path / "runs")
    assert frame["cagr"].dtype.is_float()
    assert frame["cagr"][0] == pytest.approx(run.result.strategies[0].cagr, abs=1e-15)
