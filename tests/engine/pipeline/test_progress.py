"""The one progress type: events round-trip through JSON; every stage the runner reports."""

from __future__ import annotations

import json

from engine.config.run_config import RunConfig
from engine.pipeline.prepare import prepare
from engine.pipeline.progress import ProgressEvent, for_stage
from engine.pipeline.runner import execute
from tests.conftest import random_walk_market


def test_event_round_trips_through_json():
    event = ProgressEvent("lstm-stateful", 640, 8313)
    back = ProgressEvent.from_dict(json.loads(json.dumps({**event.to_dict(), "time": 1.5})))
    assert back == event
    assert 0.07 < event.fraction < 0.08
    assert ProgressEvent("storing", 0, 1).describe() == "storing"
    assert ProgressEvent("passes", 3, 18).describe() == "3/18 passes done"
    assert ProgressEvent("x", 1, 0).fraction == 0.0


def test_for_stage_binds_the_stage():
    seen: list[tuple[str, int, int]] = []
    bound = for_stage(lambda *e: seen.append(e), "embedding headlines")
    assert bound is not None
    bound(3, 10)
    assert seen == [("embedding headlines", 3, 10)]
    assert for_stage(None, "x") is None


def test_runner_reports_days_per_strategy_then_simulation_and_evidence():
    market = random_walk_market(n=300, tickers=("IDX",), seed=3)
    config = RunConfig(strategies=({"name": "ma-trend", "params": {"window": 20}},), seeds=(0,))
    seen: list[ProgressEvent] = []
    prepared = prepare(config, market=market)
    execute(prepared, progress=lambda *e: seen.append(ProgressEvent(*e)))
    stages = [e.stage for e in seen]
    assert stages[0] == "ma-trend" and seen[0].done == seen[0].total == market.n_days  # days driven
    assert [e.done for e in seen if e.stage == "simulation"] == [0, 1, 2]  # strategy, then benchmark
    assert stages[-1] == "evidence"
