"""The ``device`` setting: names checked, resolution on a CPU-only machine, the CLI's exit 2, the record."""

from __future__ import annotations

import json
import queue

import pytest
import torch
from typer.testing import CliRunner

from engine.cli import app, main
from engine.config.run_config import RunConfig
from engine.store.manifest import device_record
from engine.workflows.sweep_executors import _init_worker, ray_task_options
from strategies.nn.device import (
    check_device_spec,
    current_device,
    on_cpu,
    resolve_device,
    run_device,
    to_device,
)

NO_CUDA = not torch.cuda.is_available()


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:1", "mps"])
def test_known_names(name: str) -> None:
    assert RunConfig(device=name).device == name
    assert check_device_spec(name) == name


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:x", "CPU", ""])
def test_unknown_names_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="device"):
        RunConfig(device=name)
    with pytest.raises(ValueError, match="device"):
        check_device_spec(name)


def test_cpu_and_auto_resolve_here() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    assert resolve_device("auto") == expected


@pytest.mark.skipif(not NO_CUDA, reason="checks the message of a machine without CUDA")
def test_cuda_absent_names_the_setting() -> None:
    with pytest.raises(ValueError, match=r"device 'cuda:0'.*no CUDA GPU"):
        resolve_device("cuda:0")


@pytest.mark.skipif(not NO_CUDA, reason="checks the exit of a machine without CUDA")
def test_cli_cuda_without_gpu_exits_2(tmp_path, capsys) -> None:
    runs = tmp_path / "runs"
    with pytest.raises(SystemExit) as info:
        main(["run", "--device", "cuda", "--runs-dir", str(runs)])
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2
    assert len(err.splitlines()) == 1 and "device 'cuda'" in err
    assert not runs.exists() or not any(runs.iterdir())  # nothing stored


def test_run_device_context_restores_cpu() -> None:
    assert current_device() == torch.device("cpu")
    with run_device("cpu") as device:
        assert current_device() == device == torch.device("cpu")
    assert current_device() == torch.device("cpu")


def test_to_device_keeps_the_cpu_tensor() -> None:
    t = torch.ones(3)
    assert to_device(t, torch.device("cpu")) is t  # the CPU path copies nothing: same bits
    state = {"a": [t, (t,)], "b": 1}
    moved = on_cpu(state)
    assert moved["a"][0] is t and moved["b"] == 1 and isinstance(moved["a"][1], tuple)


def test_manifest_records_device() -> None:
    import strategies.nn.device  # noqa: F401 - torch loaded: the record carries its versions

    record = device_record(RunConfig(device="cpu"))
    assert record["requested"] == "cpu" and record["used"] == "cpu"
    assert record["torch"] == torch.__version__ and "cuda" in record


def test_result_says_the_device(tmp_path) -> None:
    args = ["run", "--strategy", "ma-trend", "--start", "2020-01-01", "--device", "cpu", "--json"]
    result = CliRunner().invoke(app, [*args, "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["device"] == "cpu" and payload["config"]["device"] == "cpu"


def test_version_prints_the_device() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert "torch " in result.output and "--device auto ->" in result.output


def test_gpus_one_per_worker(monkeypatch) -> None:
    """--gpus N: each worker takes its own index from the queue and sees only that GPU (fake count)."""
    gpus: queue.Queue[int] = queue.Queue()
    for index in range(2):
        gpus.put(index)
    seen = []
    for _ in range(2):
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        _init_worker({}, gpus)
        import os

        seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["0", "1"]


def test_ray_tasks_ask_for_a_gpu() -> None:
    assert ray_task_options(0) == {"num_cpus": 1}
    assert ray_task_options(2) == {"num_cpus": 1, "num_gpus": 1}


def test_rerun_pins_the_run_device_or_says_it_differs() -> None:
    from engine.workflows.rerun import _same_device

    config = RunConfig()
    pinned, note = _same_device(config, {"device": {"used": "cpu"}})
    assert pinned.device == "cpu" and note == ""
    pinned, note = _same_device(config, {})  # a run from before the setting: the CPU
    assert pinned.device == "cpu" and note == ""
    if NO_CUDA:
        same, note = _same_device(config, {"device": {"used": "cuda:0"}})
        assert same.device == "auto" and "the run used cuda:0, this rerun cpu" in note


def test_accelerator_possible_reads_the_driver_marks_without_torch(monkeypatch) -> None:
    import strategies.nn.device as device

    seen: list[str] = []
    monkeypatch.setattr(device.sys, "platform", "linux")
    monkeypatch.setattr(device.os.path, "exists", lambda p: seen.append(p) or p == "/dev/dxg")
    assert device.accelerator_possible() and "/proc/driver/nvidia/version" in seen  # WSL's GPU
    monkeypatch.setattr(device.os.path, "exists", lambda p: False)
    assert not device.accelerator_possible()  # no driver: auto is the CPU, torch not asked
    monkeypatch.setattr(device.sys, "platform", "darwin")
    assert not device.accelerator_possible()  # auto never picks MPS
    monkeypatch.setattr(device.sys, "platform", "win32")
    assert device.accelerator_possible()  # cannot tell without torch: ask it
