"""Building blocks shared by the learned strategies and available to plugins.

- :mod:`.losses`: the user's loss functions (value and derivative), numerically safe;
- :mod:`.gradients`: per-seed gradient scaling / clipping;
- :mod:`.optim`: Adam and RMSprop over a flat per-seed parameter tensor;
- :mod:`.normalize`: causal running normalization (statistics from the past only);
- :mod:`.signals`: predictions to target weights;
- :mod:`.seeding`: per-seed generators, and the rows (seeds and a lone seed's shadow) a model holds;
- :mod:`.torch_threads`: torch on one thread (optionally deterministic) for a run, restored after;
- :mod:`.batched_lstm`: an LSTM whose weights carry a leading seed dimension, so ten
  independently initialized models train as one batched computation.

The names above are importable from this package; each module is imported on first
lookup (a run of the compiled LSTM never imports torch).
"""

from importlib import import_module
from typing import Any

# name -> module: imported on first lookup, so that importing one torch-free module of this
# package (the compiled LSTM path's) does not import torch with the others
_WHERE = {
    "GRADIENT_MODES": "gradients",
    "apply_gradient_mode": "gradients",
    "LOSSES": "losses",
    "Loss": "losses",
    "get_loss": "losses",
    "RunningNorm": "normalize",
    "FlatOptimizer": "optim",
    "make_optimizer": "optim",
    "seed_generator": "seeding",
    "seed_rows": "seeding",
    "SIGNALS": "signals",
    "predictions_to_weights": "signals",
    "TorchSettings": "torch_threads",
    "pin_torch": "torch_threads",
    "restore_torch": "torch_threads",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"strategies.nn.{_WHERE[name]}"), name)


__all__ = [
    "GRADIENT_MODES",
    "LOSSES",
    "SIGNALS",
    "FlatOptimizer",
    "Loss",
    "RunningNorm",
    "TorchSettings",
    "apply_gradient_mode",
    "get_loss",
    "make_optimizer",
    "pin_torch",
    "predictions_to_weights",
    "restore_torch",
    "seed_generator",
    "seed_rows",
]
