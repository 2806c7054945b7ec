"""The JSON Schema of a run's JSON form: generated from engine.store.result_schema, checked in, obeyed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from engine.cli import main
from engine.pipeline.metrics import MetricSet
from engine.store.result_schema import RunResult, Scalars, parse_result, schema_text
from tests.conftest import random_walk_market, write_yahoo_csv
from tests.payload_schema import SCHEMA_FILE, schema_errors

ROOT = Path(__file__).resolve().parents[3]


def undeclared_keys(payload: dict[str, Any]) -> list[str]:
    """Paths of keys in ``payload`` that no model here declares (``strategies[0].foo``).

    The schema accepts them (readers must not break on newer payloads); this keeps the
    models in step with what the engine writes.
    """
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, BaseModel):
            found.extend(f"{path}.{key}".lstrip(".") for key in value.model_extra or {})
            for name in type(value).model_fields:
                walk(getattr(value, name), f"{path}.{name}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")

    walk(RunResult.model_validate(payload), "")
    return found


def cli_json(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([*args, "--json"])
    captured = capsys.readouterr()
    return info.value.code, json.loads(captured.out)


def test_checked_in_schema_is_the_one_the_models_generate():
    # regenerate with: python -m engine.store.result_schema > docs/run-result.schema.json
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_the_schema_is_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_the_scalar_fields_are_the_reported_metrics():
    per_year_and_fees = {"yearly", "fees_paid", "yearly_fees"}  # beside the scalars (results._scalars)
    assert set(Scalars.model_fields) - per_year_and_fees == set(MetricSet.SCALARS)


def test_json_outputs_of_run_show_compare_validate(capsys, tmp_path):
    """Every kind of run payload: deterministic and seeded strategies, a failed plugin,
    annual picks with a point-in-time universe, show, compare. (``update --json`` prints
    the same ``to_dict``; the LSTM update tests make such payloads, checked by
    tests/payload_schema.py like every other.)"""
    csv = write_yahoo_csv(tmp_path / "AAA.csv", random_walk_market(n=700, seed=11))
    outputs = []
    code, seeded = cli_json(
        capsys,
        "run",
        "--data",
        f"csv:{csv}",
        "--end",
        "2017-06-30",
        "--strategy",
        "ma-trend",
        "--strategy",
        "tests/fixtures/leaky.py:HonestOnline",
        "--seed-list",
        "1,2,3",
        "-p",
        "window=20",
    )
    assert code in (0, None)
    outputs.append(seeded)
    code, failed = cli_json(
        capsys,
        "run",
        "--data",
        f"csv:{csv}",
        "--strategy",
        "ma-trend",
        "-p",
        "window=20",
        "--strategy",
        "tests/fixtures/bad_plugins.py:Raises",
    )
    assert code == 1 and failed["failed_strategies"]
    outputs.append(failed)
    code, annual = cli_json(
        capsys,
        "run",
        "--start",
        "2016-01-01",
        "--strategy",
        "momentum-annual",
        "-p",
        "top_k=2",
        "--universe",
        "sp500",
    )
    assert code in (0, None) and annual["universe"] and annual["strategies"][0]["picks"]
    outputs.append(annual)
    code, shown = cli_json(capsys, "show", annual["run_id"])
    outputs.append(shown)
    code, compared = cli_json(capsys, "compare", seeded["run_id"], failed["run_id"])
    outputs.extend(compared)

    for payload in outputs:
        assert schema_errors(payload) == []
        assert undeclared_keys(payload) == [], (
            "the engine writes keys engine/store/result_schema.py does not declare: add them there and "
            "regenerate docs/run-result.schema.json"
        )
        assert isinstance(parse_result(payload), RunResult)  # and the typed result reads it
    assert len(outputs) == 6
    assert "evidence" in seeded and seeded["evidence"]["honest-online"]["regression_to_mean"]


def test_unknown_keys_are_accepted_and_wrong_types_rejected(capsys):
    code, payload = cli_json(capsys, "run", "--start", "2021-01-01")
    assert code in (0, None) and schema_errors(payload) == []
    # a later version adds keys, at the top and inside: readers of this schema accept them
    newer = {
        **payload,
        "risk_model": "barra",
        "strategies": [{**payload["strategies"][0], "turnover_cap": 1}],
    }
    assert schema_errors(newer) == []
    assert undeclared_keys(newer) == ["risk_model", "strategies[0].turnover_cap"]
    # ... but the keys it types must keep their types, and required keys must be there
    assert any(
        "cagr" in e for e in schema_errors({**payload, "benchmark": {**payload["benchmark"], "cagr": "7%"}})
    )
    assert any("period" in e for e in schema_errors({k: v for k, v in payload.items() if k != "period"}))


def test_python_m_engine_is_the_cli_and_its_json_validates(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STOCKRNN_RUNS_DIR": str(tmp_path / "runs")}
    run = [sys.executable, "-m", "engine", "run", "--start", "2021-06-01", "--json"]
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=True)
    assert schema_errors(json.loads(done.stdout)) == []
    version = [sys.executable, "-m", "engine", "--version"]
    shown = subprocess.run(version, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=True)
    assert shown.stdout.startswith("backtest (stock-rnn) ")
