"""Which device torch models run on: the ``device`` setting of a run, resolved once, read by strategies.

A run's config names a device (``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``);
:func:`resolve_device` turns it into a ``torch.device`` (``auto``: the first CUDA
GPU when torch sees one, else the CPU) or raises ``ValueError`` naming the setting
when the device is not there. The engine enters :func:`run_device` around the
strategies of a run; a strategy reads :func:`current_device` in ``begin`` and puts
its models and inputs there (outputs come back to the CPU as numpy). Outside a run
the device is the CPU, so direct users of the strategies see no change.

Determinism on a GPU: :func:`prepare_cuda` sets ``CUBLAS_WORKSPACE_CONFIG`` before
CUDA is initialized (cuBLAS is otherwise free to pick reductions in a different
order from one call to the next) and the run enables torch's deterministic
algorithms (:mod:`strategies.nn.torch_threads`), which raise on any op without a
deterministic GPU kernel instead of silently varying. Model initialization and
sampling stay on CPU generators, so a seed draws the same numbers on every device;
results then differ between CPU and GPU only by float rounding (see the tolerance
in ``tests/gpu``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEVICE_PATTERN",
    "accelerator_possible",
    "check_device_spec",
    "current_device",
    "current_device_name",
    "device_info",
    "free_device_memory",
    "map_tensors",
    "on_cpu",
    "on_device",
    "prepare_cuda",
    "resolve_device",
    "run_device",
    "to_device",
]

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda|cuda:\d{1,2}|mps")
# cuBLAS's documented setting for reproducible results (one of two; this one uses ~24 MiB more)
CUBLAS_WORKSPACE = ":4096:8"

# the device of the run in progress: a resolved torch.device, or a setting not resolved yet ("cpu",
# "auto": resolved when a strategy first asks, so a run that never needs torch never imports it)
_current: Any = "cpu"


def check_device_spec(spec: str) -> str:
    """``spec`` if it is a device name this project knows (the syntax only), else ValueError naming it."""
    if not isinstance(spec, str) or not DEVICE_PATTERN.fullmatch(spec):
        raise ValueError(f"device {spec!r}: expected auto, cpu, cuda, cuda:N or mps")
    return spec


def prepare_cuda() -> None:
    """Set ``CUBLAS_WORKSPACE_CONFIG`` (unless the user set it) so cuBLAS is deterministic.

    cuBLAS reads it when CUDA initializes, so this is called before the first CUDA
    call of the process (resolving a device only asks whether a GPU is there).
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


def accelerator_possible() -> bool:
    """False when this machine certainly has no GPU that ``auto`` would pick, decided without torch.

    On Linux CUDA needs the NVIDIA driver (``/proc/driver/nvidia/version``, ``/dev/nvidiactl``;
    ``/dev/dxg`` under WSL) and ROCm builds of torch ``/dev/kfd``; with none of them torch's
    ``cuda.is_available()`` is False, and importing torch to hear it costs about a second. On
    macOS ``auto`` never picks a GPU (MPS is chosen by name only). Elsewhere: True (ask torch).
    """
    if sys.platform == "darwin":
        return False
    if not sys.platform.startswith("linux"):
        return True
    marks = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg", "/dev/kfd")
    return any(os.path.exists(mark) for mark in marks)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(spec: str) -> torch.device:
    """The ``torch.device`` of the setting ``spec``; ValueError naming the setting when it is not there.

    ``auto``: ``cuda:0`` when torch sees a CUDA GPU, else the CPU (never ``mps``:
    its kernels are not all deterministic, so it is chosen only by name).
    """
    import torch

    check_device_spec(spec)
    cpu = torch.device("cpu")
    if spec == "cpu":
        return cpu
    if spec == "auto":
        prepare_cuda()
        return torch.device("cuda:0") if torch.cuda.is_available() else cpu
    if spec == "mps":
        if not _mps_available():
            raise ValueError("device 'mps': torch sees no Apple GPU (MPS) here; use --device cpu or auto")
        return torch.device("mps")
    prepare_cuda()
    if not torch.cuda.is_available():
        raise ValueError(
            f"device {spec!r}: torch {torch.__version__} sees no CUDA GPU here "
            f"(a CPU-only build, or no driver); use --device cpu or auto"
        )
    index = int(spec.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise ValueError(f"device {spec!r}: torch sees {count} CUDA GPU(s) (cuda:0..cuda:{count - 1})")
    return torch.device("cuda", index)


def current_device_name() -> str:
    """The name of the run's device (``cpu``, ``cuda:0`` ...; the CPU outside a run), resolving an
    ``auto`` setting on first ask: without importing torch when no accelerator is possible here
    (:func:`accelerator_possible`), else as :func:`resolve_device` does."""
    global _current
    if isinstance(_current, str) and _current != "cpu":
        if _current == "auto" and "torch" not in sys.modules and not accelerator_possible():
            _current = "cpu"
        else:
            _current = resolve_device(_current)
    return str(_current)


def current_device() -> torch.device:
    """The device of the run in progress (:func:`run_device`); the CPU outside a run (imports torch)."""
    import torch

    return torch.device(current_device_name())


@contextlib.contextmanager
def run_device(spec: str | torch.device) -> Iterator[Any]:
    """Make ``spec`` the device of the strategies run inside; memory given back on the way out.

    Yields the ``torch.device``, resolved now when torch is loaded or the setting names a
    GPU (a device that is not there raises ``ValueError`` here); in a process without torch
    so far, ``auto`` and ``cpu`` yield the setting and are resolved when a strategy first
    asks (:func:`current_device_name`), so a run that never needs torch never imports it.
    On leaving (also on a failure) a GPU's cached blocks are returned to the driver
    (:func:`free_device_memory`), so a long-lived process does not keep them.
    """
    global _current
    lazy = isinstance(spec, str) and spec in ("auto", "cpu") and "torch" not in sys.modules
    device: Any = spec if lazy or not isinstance(spec, str) else resolve_device(spec)
    before, _current = _current, device
    try:
        yield device
    finally:
        used = _current
        _current = before
        if str(used) not in ("cpu", "auto"):
            free_device_memory()


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` on ``device``: the same tensor when it is there already (the CPU path is unchanged)."""
    return tensor if tensor.device == device else tensor.to(device)


def on_cpu(state: Any) -> Any:
    """``state`` (nested dicts, lists, tuples of tensors) with every tensor on the CPU (a checkpoint)."""
    return map_tensors(state, lambda t: t.cpu())


def on_device(state: Any, device: torch.device) -> Any:
    """``state`` with every tensor on ``device`` (a checkpoint loaded into a model there)."""
    return map_tensors(state, lambda t: to_device(t, device))


def map_tensors(state: Any, fn: Any) -> Any:
    """``state`` (nested dicts, lists, tuples) with ``fn(tensor)`` in place of every tensor."""
    import torch

    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, dict):
        return {k: map_tensors(v, fn) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(map_tensors(v, fn) for v in state)
    return state


def free_device_memory() -> None:
    """Collect unreachable tensors and return the GPU's cached blocks to the driver (no-op on a CPU)."""
    import torch

    gc.collect()
    if torch.cuda.is_initialized():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    backend = getattr(torch, "mps", None)
    if _mps_available() and backend is not None and hasattr(backend, "empty_cache"):
        backend.empty_cache()


def device_info(device: torch.device | None = None) -> dict[str, Any]:
    """What a manifest and ``backtest --version`` say about torch's devices.

    Keys: ``device`` (the one used, when given), ``torch`` (version), ``cuda`` (the
    CUDA version torch was built with, None for a CPU build), ``gpus`` (CUDA GPUs
    torch sees), ``gpu`` (the used or first GPU's name), ``mps`` (Apple GPU there).
    """
    import torch

    info: dict[str, Any] = {}
    if device is not None:
        info["device"] = str(device)
    info["torch"] = torch.__version__
    info["cuda"] = torch.version.cuda
    available = torch.cuda.is_available()
    info["gpus"] = torch.cuda.device_count() if available else 0
    if available:
        index = device.index or 0 if device is not None and device.type == "cuda" else 0
        info["gpu"] = torch.cuda.get_device_name(index)
        info["cudnn"] = torch.backends.cudnn.version()
    info["mps"] = _mps_available()
    return info
