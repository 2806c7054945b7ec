"""Sweeps: grid expansion, resumable runs, a failing cell, the report, executors agreeing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config.sweep_spec import expand, load_spec
from engine.rows import sweep_rows
from engine.store.run_store import COMPLETE, FAILED, RunStore
from engine.workflows.sweep import completed_cells, run_sweep
from tests.conftest import random_walk_market, write_yahoo_csv

ROOT = Path(__file__).resolve().parents[3]
BAD = ROOT / "tests" / "fixtures" / "bad_plugins.py"


@pytest.fixture
def data(tmp_path):
    return write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=400, tickers=("IDX",), seed=6))


def spec_text(csv: Path, extra: str = "") -> str:
    return f"""
name = "test-sweep"
data = "csv:{csv}"
seeds = 2

[[strategies]]
name = "lstm-stateful"
params = {{ hidden = 4, warmup_years = 0.5, grad_mode = "none" }}
grid = {{ loss = ["mse", "linex"] }}

[[strategies]]
name = "ma-trend"
grid = {{ window = [10, 20, 40] }}
{extra}
"""


def write_spec(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_cell_keys_match_those_stored_before_the_typed_spec(tmp_path):
    """Sweep folders written before the spec and cells were typed must resume: keys pinned to the
    values the earlier code (ca1f698) stored for this spec."""
    path = write_spec(
        tmp_path,
        'name = "xv"\ndata = "sample"\nseeds = 1\nperiods = [["2012-01-01", "2016-12-31"]]\n'
        '[[strategies]]\nname = "ma-trend"\ngrid = { window = [10, 20] }\n',
    )
    spec = load_spec(path)
    keys = ["b91694e3beda5bd3", "4f622fd57f03d4af"]
    assert [c.key for c in expand(spec)] == keys
    from engine.config.sweep_spec import spec_model

    assert [c.key for c in expand(spec_model(spec))] == keys  # the typed model expands the same


def test_grid_expansion_and_stable_cell_keys(tmp_path, data):
    spec = load_spec(write_spec(tmp_path, spec_text(data)))
    cells = expand(spec)
    assert [c.label for c in cells] == [
        "lstm-stateful loss=mse",
        "lstm-stateful loss=linex",
        "ma-trend window=10",
        "ma-trend window=20",
        "ma-trend window=40",
    ]
    reordered = spec.model_copy(update={"strategies": spec.strategies[::-1]})
    assert {c.key for c in expand(reordered)} == {c.key for c in cells}
    yaml_path = write_spec(
        tmp_path,
        f"name: y\ndata: csv:{data}\nseeds: [0, 1]\nheadlines: [false]\n"
        "strategies:\n  - name: ma-trend\n    grid: {window: [10, 20]}\n",
        "s.yaml",
    )
    assert len(expand(load_spec(yaml_path))) == 2


def test_a_sweep_runs_every_cell_once_and_resumes(tmp_path, data):
    store = RunStore(tmp_path / "runs")
    spec = load_spec(write_spec(tmp_path, spec_text(data)))
    first = run_sweep(spec, store, workers=2)
    assert (first.cells, first.skipped, len(first.done), first.failed) == (5, 0, 5, [])
    assert len(completed_cells(store, "test-sweep")) == 5
    again = run_sweep(spec, store, workers=2)
    assert (again.skipped, again.done) == (5, [])
    rows = sweep_rows(store, "test-sweep")
    assert len(rows) == 5 and all(r.status == COMPLETE for r in rows)
    assert {r.trials for r in rows} == {2 * 2 + 3}  # every seed of every cell
    losses = {
        store.load_metrics(r.run)[1]["strategies"][0]["params"].get("loss") for r in rows if "lstm" in r.cell
    }
    assert losses == {"mse", "linex"}


def test_a_failing_cell_is_recorded_and_the_others_finish(tmp_path, data):
    store = RunStore(tmp_path / "runs")
    extra = f'\n[[strategies]]\nname = "{BAD}:Raises"\n\n[[strategies]]\nname = "no-such-one"\n'
    text = spec_text(data, extra)
    named = (f"{BAD}:Raises",)  # a spec names code: named again to allow importing it
    outcome = run_sweep(load_spec(write_spec(tmp_path, text), plugins=named), store, workers=2)
    assert len(outcome.done) == 5 and len(outcome.failed) == 2
    errors = " ".join(message for _, message in outcome.failed)
    assert "ZeroDivisionError" in errors and "unknown strategy 'no-such-one'" in errors
    statuses = sorted(i.status for i in store.list())
    assert statuses == [COMPLETE] * 5 + [FAILED] * 2
    retry = run_sweep(load_spec(write_spec(tmp_path, text), plugins=named), store, workers=1)
    assert retry.skipped == 5 and len(retry.failed) == 2  # only the failed cells are tried again


@pytest.mark.slow
def test_killing_a_sweep_half_way_and_rerunning_finishes_only_the_missing_cells(tmp_path, data):
    runs = tmp_path / "runs"
    text = spec_text(data).replace(
        # many cells: under load the driver must not finish them all between two looks at the store
        "grid = { window = [10, 20, 40] }",
        "grid = { window = [10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140] }",
    )
    text = text.replace(
        'grid = { loss = ["mse", "linex"] }', 'grid = { loss = ["mse", "linex", "huber", "smooth_l1"] }'
    )
    path = write_spec(tmp_path, text)
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(runs)}
    child = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "sweep", str(path), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = RunStore(runs)
    deadline = time.time() + 300
    while time.time() < deadline and len(completed_cells(store, "test-sweep")) < 3:
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGKILL)  # the driver and its workers, mid-sweep
    child.wait()
    done_before = completed_cells(store, "test-sweep")
    assert 3 <= len(done_before) < 20
    outcome = run_sweep(load_spec(path), store, workers=2)
    assert outcome.skipped == len(done_before)
    assert len(outcome.done) == 20 - len(done_before)
    after = completed_cells(store, "test-sweep")
    assert len(after) == 20 and all(after[k] == v for k, v in done_before.items())


@pytest.mark.slow
def test_ray_and_local_give_identical_cells(tmp_path, data):
    pytest.importorskip("ray")
    spec = load_spec(write_spec(tmp_path, spec_text(data)))
    local, ray_store = RunStore(tmp_path / "local"), RunStore(tmp_path / "ray")
    run_sweep(spec, local, workers=2)
    run_sweep(spec, ray_store, executor="ray", workers=2)
    for key, run_id in completed_cells(local, "test-sweep").items():
        a = local.load_metrics(run_id)[1]
        b = ray_store.load_metrics(completed_cells(ray_store, "test-sweep")[key])[1]
        for payload in (a, b):
            payload.pop("run_id")
        assert a == b


def test_cell_keys_do_not_change_with_unset_optional_fields():
    from engine.config.fields import keyed_fields
    from engine.config.run_config import RunConfig, StrategySpec
    from engine.config.sweep_spec import cell_key

    plain = RunConfig(strategies=(StrategySpec(name="ma-trend"),))
    # pinned: the key of this config since the basis fields (dividends, cash_rate) joined it; the
    # optional fields added later (universe, headline columns) must not move it while unset
    assert cell_key(plain) == "b779e3f08993e4be"
    assert not set(keyed_fields()) & {"universe", "headline_column", "time_column", "timezone", "device"}
    assert cell_key(plain.model_copy(update={"universe": "sp500"})) != cell_key(plain)
    assert cell_key(plain.model_copy(update={"timezone": "UTC"})) != cell_key(plain)
    assert cell_key(plain.model_copy(update={"cash_rate": 0.03})) != cell_key(plain)


def test_a_typo_in_a_spec_is_exit_2_naming_the_key_with_a_suggestion(tmp_path, data, capsys):
    from engine.cli import main

    def exit_code(text: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as info:
            main(["sweep", str(write_spec(tmp_path, text)), "--runs-dir", str(tmp_path / "runs")])
        return info.value.code, capsys.readouterr().err

    code, err = exit_code(spec_text(data).replace("params = {{", "param = {{").replace("params =", "param ="))
    assert code == 2 and "strategies[0].param" in err and "did you mean 'params'" in err
    code, err = exit_code(spec_text(data).replace("seeds = 2", "seed = 2"))
    assert code == 2 and "unknown key 'seed'; did you mean 'seeds'" in err
    code, err = exit_code(spec_text(data).replace("hidden = 4", "hiden = 4"))
    assert code == 2 and "unknown parameter 'hiden'; did you mean 'hidden'" in err
    assert not (tmp_path / "runs").exists() or not RunStore(tmp_path / "runs").list()  # nothing ran


def test_run_fields_are_kept_in_every_cell(tmp_path, data):
    text = spec_text(data).replace(
        "seeds = 2",
        'seeds = 2\nmax_leverage = 2.0\nheadline_model = "m"\nheadline_date_only = "same"\n'
        'headline_column = "Headlines"\ntime_column = "Time"\ntimezone = "UTC"',
    )
    cells = expand(load_spec(write_spec(tmp_path, text)))
    config = cells[0].config
    assert (config.max_leverage, config.headline_model, config.headline_date_only) == (2.0, "m", "same")
    assert (config.headline_column, config.time_column, config.timezone) == ("Headlines", "Time", "UTC")


def test_changing_the_data_recomputes_the_affected_cells(tmp_path, data):
    other = write_yahoo_csv(tmp_path / "OTHER.csv", random_walk_market(n=400, tickers=("OTHER",), seed=9))
    text = f"""
name = "fp"
data = ["csv:{data}", "csv:{other}"]
seeds = 1
[[strategies]]
name = "ma-trend"
grid = {{ window = [10, 20] }}
"""
    store = RunStore(tmp_path / "runs")
    spec = load_spec(write_spec(tmp_path, text))
    first = run_sweep(spec, store, workers=1)
    assert (first.cells, len(first.done)) == (4, 4)
    lines = data.read_text().splitlines()
    data.write_text("\n".join(lines[:-10]) + "\n")  # the same spec, the first file revised
    again = run_sweep(spec, store, workers=1)
    assert (again.skipped, len(again.done)) == (2, 2)  # only the cells on the changed file
    rows = sweep_rows(store, "fp")
    assert len(rows) == 4 and all(r.status == COMPLETE for r in rows)
    assert run_sweep(spec, store, workers=1).skipped == 4


def test_sweep_reports_cells_stored_through_the_progress_type(tmp_path, data):
    from engine.pipeline.progress import ProgressEvent
    from engine.workflows.sweep import CELLS

    text = (
        f'name = "p"\ndata = "csv:{data}"\nseeds = 1\n'
        '[[strategies]]\nname = "ma-trend"\ngrid = { window = [10, 20] }\n'
    )
    seen: list[ProgressEvent] = []
    outcome = run_sweep(
        load_spec(write_spec(tmp_path, text)),
        RunStore(tmp_path / "runs"),
        workers=1,
        progress=lambda *e: seen.append(ProgressEvent(*e)),
    )
    assert len(outcome.done) == 2
    assert seen == [ProgressEvent(CELLS, 0, 2), ProgressEvent(CELLS, 1, 2), ProgressEvent(CELLS, 2, 2)]
