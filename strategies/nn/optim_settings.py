"""The optimizers' fixed hyperparameters, in one torch-free place.

:mod:`strategies.nn.optim` (torch) and the compiled LSTM day step
(:mod:`strategies.nn.lstm_kernel`, which runs without torch) read them here, so
the two paths cannot drift apart. They are torch.optim's defaults.
"""

from __future__ import annotations

ADAM_BETAS = (0.9, 0.999)  # decay of the gradient's running mean and of its running square
ADAM_EPS = 1e-8  # added to the root of the running square before dividing
RMSPROP_ALPHA = 0.99  # decay of the running square of the gradient
RMSPROP_EPS = 1e-8
