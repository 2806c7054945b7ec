"""A small stored run (ma-trend on one random-walk index) for the chart and table tests."""

from __future__ import annotations

import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.store.result_schema import parse_result
from engine.store.run_store import RunStore
from engine.workflows.record import run_and_store
from tests.conftest import random_walk_market, write_yahoo_csv


@pytest.fixture(scope="package")
def stored(tmp_path_factory):
    """(typed result, equity frame, weights frame, the JSON form as stored) of one run."""
    tmp = tmp_path_factory.mktemp("views")
    runs = RunStore(tmp / "runs")
    csv = write_yahoo_csv(tmp / "IDX.csv", random_walk_market(n=700, tickers=("IDX",), seed=4))
    config = RunConfig(
        data=f"csv:{csv}",
        strategies=(StrategySpec(name="ma-trend", params={"window": 20}),),
        start=None,
    )
    result = run_and_store(prepare(config), runs)
    payload = result.to_dict()
    return parse_result(payload), runs.load_equity(result.run_id), runs.load_weights(result.run_id), payload
