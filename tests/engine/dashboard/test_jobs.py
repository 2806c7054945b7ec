"""Dashboard worker jobs: recorded in the runs directory, re-attachable, cancelled runs marked so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.config.run_config import RunConfig, StrategySpec
from engine.dashboard.jobs import JOBS, Job, active_jobs, cancel_message, plain_error, running_job_ids
from engine.store.run_store import RunStore, write_json_atomic
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
    job = Job.start(config, runs_dir=runs)
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
    job = Job.start(config, runs_dir=runs)
    deadline = time.time() + 120
    while job.run_folder() is None and time.time() < deadline:
        time.sleep(0.2)
    assert job.run_folder() is not None
    assert job.job_id in running_job_ids(runs)
    Job.attach(job.folder).cancel()  # from another session, as after a reload
    assert job.poll().state == "cancelled"
    listed = RunStore(runs).list()
    assert [i.status for i in listed] == ["cancelled"]
    assert job.stored_outcome() == ("cancelled", listed[0].run_id)  # what the page's message follows
    RunStore(runs).remove(listed[0].run_id)
    assert RunStore(runs).list() == []


def test_cancel_stops_the_workers_whole_process_group(tmp_path):
    """A worker's own children (process pools, ...) stop with it, also when cancelled after a reload."""
    folder = tmp_path / "runs" / JOBS / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    child_pid = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(child_pid)!r}, 'w').write(str(p.pid)); time.sleep(120)"
    )
    # the job id on the command line, as the real worker has it (a reused pid is never killed)
    worker = subprocess.Popen([sys.executable, "-c", script, str(folder)], start_new_session=True)
    write_json_atomic(folder / "job.json", {"pid": worker.pid, "started": time.time(), "echo": {}})
    deadline = time.time() + 30
    while not child_pid.exists() and time.time() < deadline:
        time.sleep(0.05)
    grandchild = int(child_pid.read_text())
    job = Job.attach(folder)
    assert job is not None and job.poll().state == "running"
    job.cancel()
    assert worker.wait(timeout=15) is not None
    deadline = time.time() + 15
    while _running(grandchild) and time.time() < deadline:
        time.sleep(0.05)
    assert not _running(grandchild)
    assert job.poll().state == "cancelled"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (its parent, killed too, never reaped it)


def test_several_jobs_run_side_by_side_and_each_names_its_run(tmp_path):
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=300, tickers=("A",), seed=4))
    runs = tmp_path / "runs"
    jobs = [
        Job.start(
            RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="ma-trend", params={"window": w}),)),
            runs_dir=runs,
        )
        for w in (10, 30)
    ]
    assert len({j.job_id for j in jobs}) == 2 and os.getpid() not in {j.info["pid"] for j in jobs}
    windows = []
    for job in jobs:
        status = wait(job)
        assert status.state == "done", status.error
        windows.append(RunStore(runs).load_metrics(status.run_id)[1]["strategies"][0]["params"]["window"])
    assert windows == [10, 30]


def test_a_cancel_that_lands_after_the_run_was_stored_says_it_was_stored(tmp_path):
    """Cancel clicked while "storing": the worker publishes the run before the kill lands. The store
    then lists it complete, and the page's message must say so (not "run cancelled")."""
    csv = write_yahoo_csv(tmp_path / "A.csv", random_walk_market(n=300, tickers=("A",), seed=5))
    runs = tmp_path / "runs"
    config = RunConfig(data=f"csv:{csv}", strategies=(StrategySpec(name="ma-trend", params={"window": 10}),))
    job = Job.start(config, runs_dir=runs)
    status = wait(job)
    assert status.state == "done", status.error
    job.cancel()  # too late: the run is published
    assert job.poll().state == "cancelled"  # the job's own record says cancelled ...
    assert job.stored_outcome() == ("complete", status.run_id)  # ... the store says complete
    assert [i.status for i in RunStore(runs).list()] == ["complete"]
    kind, text = cancel_message(*job.stored_outcome(), runs)
    assert kind == "success" and status.run_id in text and "stored" in text and "cancelled" not in text


def test_the_cancel_message_follows_the_stored_status(tmp_path):
    assert cancel_message("cancelled", "r1", tmp_path) == (
        "warning",
        "run cancelled; r1 is listed as cancelled under Runs",
    )
    assert cancel_message(None, None, tmp_path)[1] == "run cancelled before it stored anything"
    assert "complete" not in cancel_message("failed", "r2", tmp_path)[1]
    assert cancel_message("complete", "r3", tmp_path)[0] == "success"
