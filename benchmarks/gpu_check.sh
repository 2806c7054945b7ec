#!/usr/bin/env bash
# The GPU checks of issue 26 in one go (a GPU machine with the CUDA torch wheel, see README):
# transformer 10 seeds and headline embedding timed CPU vs GPU, bits on the GPU, GPU memory back.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" CUBLAS_WORKSPACE_CONFIG="${CUBLAS_WORKSPACE_CONFIG:-:4096:8}"
python -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA GPU'; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))"
backtest --version
python -m pytest -q -s -p no:cacheprovider tests/gpu
python benchmarks/memory_bench.py --runs 20 --cells 20 --start 2015-01-01
