"""GPU checks (skipped without CUDA): timings CPU vs GPU, bits on the GPU, GPU memory given back.

Run them in one go on a GPU machine with ``benchmarks/gpu_check.sh``.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from engine.config.run_config import RunConfig
from engine.pipeline.prepare import prepare
from engine.pipeline.runner import execute

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# CPU and GPU agree to float32 rounding accumulated over the run, not bit for bit
CPU_GPU_RTOL = 1e-3


def _transformer(device: str, seeds: int = 10) -> tuple[dict, float]:
    config = RunConfig(strategies=({"name": "transformer"},), seeds=tuple(range(seeds)), device=device)
    began = time.perf_counter()
    result = execute(prepare(config))
    return result.to_dict(), time.perf_counter() - began


def test_transformer_10_seeds_cpu_vs_gpu() -> None:
    gpu, gpu_s = _transformer("cuda")
    cpu, cpu_s = _transformer("cpu")
    print(f"transformer 10 seeds: cpu {cpu_s:.1f} s, gpu {gpu_s:.1f} s ({cpu_s / gpu_s:.2f}x)")
    assert gpu["device"].startswith("cuda") and cpu["device"] == "cpu"
    a, b = cpu["strategies"][0], gpu["strategies"][0]
    np.testing.assert_allclose(b["cagr"], a["cagr"], rtol=CPU_GPU_RTOL, atol=1e-4)


def test_transformer_bit_identical_on_gpu() -> None:
    first, _ = _transformer("cuda", seeds=2)
    second, _ = _transformer("cuda", seeds=2)
    first.pop("run_id"), second.pop("run_id")
    assert first == second


def test_gpu_memory_back_after_20_runs() -> None:
    _transformer("cuda", seeds=2)
    baseline = torch.cuda.memory_reserved()
    for _ in range(19):
        _transformer("cuda", seeds=2)
    assert torch.cuda.memory_reserved() <= baseline
    assert torch.cuda.memory_allocated() == 0 or torch.cuda.memory_allocated() <= baseline


def test_headline_embedding_cpu_vs_gpu(tmp_path) -> None:
    pytest.importorskip("sentence_transformers")
    from feeds.embeddings import Embedder

    texts = [f"stocks move on report number {i}" for i in range(2000)]
    times = {}
    for device in ("cpu", "cuda:0"):
        embedder = Embedder(tmp_path / device, device=device)
        began = time.perf_counter()
        try:
            vectors, _ = embedder.embed(texts)
        except OSError as exc:  # the model is not in the local cache (offline)
            pytest.skip(f"headline model not available: {exc}")
        finally:
            embedder.close()
        times[device] = (time.perf_counter() - began, vectors)
    print(f"embedding 2000 headlines: cpu {times['cpu'][0]:.1f} s, gpu {times['cuda:0'][0]:.1f} s")
    np.testing.assert_allclose(times["cuda:0"][1], times["cpu"][1], atol=1e-3)
