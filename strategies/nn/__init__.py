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
"""

from strategies.nn.gradients import GRADIENT_MODES, apply_gradient_mode
from strategies.nn.losses import LOSSES, Loss, get_loss
from strategies.nn.normalize import RunningNorm
from strategies.nn.optim import FlatOptimizer, make_optimizer
from strategies.nn.seeding import seed_generator, seed_rows
from strategies.nn.signals import SIGNALS, predictions_to_weights
from strategies.nn.torch_threads import TorchSettings, pin_torch, restore_torch

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
