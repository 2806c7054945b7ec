"""Dashboard worker jobs: recorded in the runs directory, re-attachable, cancelled runs marked so."""

from __future__ import annotations

import json
import time

from engine.config import RunConfig, StrategySpec
from engine.form import config_args
from engine.jobs import Job, active_jobs, plain_error, running_job_ids
from engine.store import RunStore
from tests.conftest import random_walk_market, write_yahoo_csv


def wait(job: Job, timeout: float = 120):
    deadline = time.time() + timeout
    status = job.poll()
    while status.state == "running" and time.time() < deadline:
        time.sleep(0.2)
        status = job.poll()
    return status


def test_plain_error_drops_cli_wording():
    assert plain_error("error: --headlines csv:x.csv: no such file") == "headlines csv:x.csv: no such file"
    assert plain_error("internal error: KeyError: 'x' (run again with --debug for the traceback)") == (
        "KeyError: 'x'"
    )


def test_a_job_is_found_again_from_the_store_and_reports_stages(tmp_path):
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=300, tickers=("A",), seed=1))
    runs = tmp_path / "runs"
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="ma-trend", params={"window": 10}),))
    job = Job.start(config_args(config), runs_dir=runs)
    again = active_jobs(runs)  # what a reloaded page sees: no Popen object, only the record
    assert [j.job_id for j in again] == [job.job_id]
    status = wait(again[0])
    assert status.state == "done", status.error
    _, payload = RunStore(runs).load_metrics(status.run_id)
    assert payload["strategies"][0]["params"]["window"] == 10
    info = RunStore(runs).find(status.run_id)
    assert info.manifest["job"] == job.job_id  # the run names its job
    progress = json.loads((job.folder / "progress.json").read_text())
    assert progress["stage"] == "storing"  # the last stage the runner reported
    job.forget()
    assert active_jobs(runs) == []


def test_a_cancelled_job_is_listed_as_cancelled_and_can_be_removed(tmp_path):
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=2500, tickers=("A",), seed=2))
    runs = tmp_path / "runs"
    config = RunConfig(
        data=f"csv:{csv}",
        strategies=(StrategySpec(name="lstm-stateful", params={"hidden": 64, "warmup_years": 1}),),
        seeds=tuple(range(8)),
    )
    job = Job.start(config_args(config), runs_dir=runs)
    deadline = time.time() + 120
    while job.run_folder() is None and time.time() < deadline:
        time.sleep(0.2)
    assert job.run_folder() is not None
    assert job.job_id in running_job_ids(runs)
    Job.attach(job.folder).cancel()  # from another session, as after a reload
    assert job.poll().state == "cancelled"
    listed = RunStore(runs).list()
    assert [i.status for i in listed] == ["cancelled"]
    RunStore(runs).remove(listed[0].run_id)
    assert RunStore(runs).list() == []
