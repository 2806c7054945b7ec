"""Run folders older versions wrote are read through engine.store.migrations, and still load."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from engine.store import migrations
from engine.store.result_schema import RunResult, load_result
from engine.store.run_store import COMPLETE, RunStore
from tests.engine.test_store_integrity import one_run


def test_a_creation_time_without_a_zone_is_local_time():
    naive = dt.datetime(2024, 3, 1, 12, 0, 0)
    assert migrations.created_utc({"created_at": naive.isoformat()}) == naive.astimezone(dt.UTC)
    zoned = "2024-03-01T12:00:00+00:00"
    assert migrations.created_utc({"created_at": zoned}) == dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    assert migrations.created_utc({}) is None and migrations.created_utc({"created_at": "soon"}) is None


def test_manifests_without_digests_or_device():
    assert migrations.recorded_digests({}) == {} and migrations.recorded_digests({"files": None}) == {}
    assert migrations.device_used({}) == "cpu" and migrations.device_used({"device": {}}) == "cpu"
    assert migrations.device_used({"device": {"used": "cuda:0"}}) == "cuda:0"


def test_a_result_without_a_basis_states_the_legacy_one():
    assert migrations.basis_statement(RunResult.model_construct(basis=None)) == migrations.LEGACY_BASIS


@pytest.fixture
def old_run(tmp_path) -> tuple[RunStore, str]:
    """A stored run edited to look like one stored before fees (and digests) were recorded."""
    store = RunStore(tmp_path / "runs")
    run_id = one_run(store)
    path = store.root / run_id / "metrics.json"
    payload = json.loads(path.read_text())
    for entry in [*payload["strategies"], *payload["benchmarks"], payload["benchmark"]]:
        for scalars in [
            entry,
            *(entry.get("seeds") or []),
            *([entry["ensemble"]] if entry.get("ensemble") else []),
        ]:
            del scalars["fees_paid"], scalars["yearly_fees"]
        del entry["aggregate"]["fees_paid_mean"]
    path.write_text(json.dumps(payload))
    manifest_path = store.root / run_id / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"]  # older runs recorded no digests
    manifest_path.write_text(json.dumps(manifest))
    return store, run_id


def test_a_run_stored_before_fees_were_recorded_still_loads(old_run):
    store, run_id = old_run
    assert {i.run_id: i.status for i in store.list()}[run_id] == COMPLETE
    result = load_result(run_id, runs_dir=store.root)
    entry = result.strategies[0]
    assert entry.fees_paid is None and entry.yearly_fees is None and entry.aggregate.fees_paid_mean is None
    assert entry.cagr is not None  # everything else as stored
