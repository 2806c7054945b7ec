"""Building blocks shared by the learned strategies and available to plugins.

- :mod:`.losses`: the user's loss functions (value and derivative), numerically safe;
- :mod:`.gradients`: per-seed gradient scaling / clipping;
- :mod:`.optim`: Adam and RMSprop over a flat per-seed parameter tensor;
- :mod:`.normalize`: causal running normalization (statistics from the past only);
- :mod:`.signals`: predictions to target weights;
- :mod:`.seeding`: per-seed generators and determinism settings;
- :mod:`.batched_lstm`: an LSTM whose weights carry a leading seed dimension, so ten
  independently initialized models train as one batched computation.
"""

from strategies.nn.gradients import GRADIENT_MODES, apply_gradient_mode
from strategies.nn.losses import LOSSES, Loss, get_loss
from strategies.nn.normalize import RunningNorm
from strategies.nn.optim import FlatOptimizer, make_optimizer
from strategies.nn.seeding import deterministic_torch, seed_generator
from strategies.nn.signals import SIGNALS, predictions_to_weights

__all__ = [
    "GRADIENT_MODES",
    "LOSSES",
    "SIGNALS",
    "FlatOptimizer",
    "Loss",
    "RunningNorm",
    "apply_gradient_mode",
    "deterministic_torch",
    "get_loss",
    "make_optimizer",
    "predictions_to_weights",
    "seed_generator",
]
