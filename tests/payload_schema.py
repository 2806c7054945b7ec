"""Every run payload the tests produce is validated against docs/run-result.schema.json.

A run's JSON form reaches every surface (``--json``, ``metrics.json``, ``show``,
``compare``, the dashboard) from one of two places: ``SimulatedRun.to_dict`` (a run
just made) and ``RunStore.load_metrics`` (a stored run). An autouse fixture wraps
both for every test, so each payload any test produces is checked against the
checked-in schema; the terminal summary says how many were.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "run-result.schema.json"
validated: dict[str, Any] = {"payloads": 0, "runs": set()}


@cache
def validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(payload: Any) -> list[str]:
    """One line per way ``payload`` breaks the schema (JSON round trip first: what a reader sees)."""
    document = json.loads(json.dumps(payload, allow_nan=False))
    found = sorted(validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}" for e in found]


def check(payload: Any, problems: list[str]) -> None:
    errors = schema_errors(payload)
    problems.extend(f"run {payload.get('run_id')!r}: {line}" for line in errors)
    validated["payloads"] += 1
    validated["runs"].add(payload.get("run_id"))


problems: list[str] = []  # found since the last test's teardown (module fixtures' runs included)


@pytest.fixture(autouse=True, scope="session")
def _checked_payload_sources():
    # session-wide, so runs made by module- and session-scoped fixtures are checked too
    from engine.pipeline.results import SimulatedRun
    from engine.store.run_store import RunStore

    to_dict, load_metrics = SimulatedRun.to_dict, RunStore.load_metrics

    def checked_to_dict(self: SimulatedRun) -> dict[str, Any]:
        payload = to_dict(self)
        check(payload, problems)
        return payload

    def checked_load_metrics(self: RunStore, ref: str) -> tuple[Any, dict[str, Any]]:
        info, payload = load_metrics(self, ref)
        check(payload, problems)
        return info, payload

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SimulatedRun, "to_dict", checked_to_dict)
        patch.setattr(RunStore, "load_metrics", checked_load_metrics)
        yield


@pytest.fixture(autouse=True)
def validate_run_payloads(_checked_payload_sources):
    """Fail the test whose runs (or whose fixtures' runs) produced a payload the schema rejects."""
    yield
    if problems:
        found = list(problems)
        problems.clear()
        pytest.fail("run payload breaks docs/run-result.schema.json:\n" + "\n".join(found[:20]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if validated["payloads"]:
        terminalreporter.write_line(
            f"run-result schema: {validated['payloads']} run payloads ({len(validated['runs'])} runs) "
            f"validated against {SCHEMA_FILE.relative_to(SCHEMA_FILE.parents[1])}"
        )
