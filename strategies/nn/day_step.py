"""The online LSTM's day step as one seam: a protocol, and the torch implementation.

:class:`LstmDayStep` is what ``lstm-stateful`` / ``lstm-stateless`` call each day:
``step`` runs the day's inputs through the model (all seeds) and keeps the
activations for back-propagation; ``learn`` takes one optimizer step once the
target of the newest kept step is known; ``state_dict`` / ``load_state_dict``
carry the model, optimizer, kept steps and (stateful) hidden state through a
checkpoint. Two implementations hold the same state in the same checkpoint format:

- :class:`~strategies.nn.torch_day_step.TorchDayStep`: :class:`~strategies.nn.batched_lstm.BatchedLSTM`'s
  batched forward and hand-written backward, on any torch device (the reference);
- :class:`~strategies.nn.numba_day_step.NumbaDayStep`: the same step compiled with
  numba, on the CPU (about 4x faster there: 0.4 s vs 1.6 s for 2,000 days of ten
  seeds), and without torch: a run on this path never imports it (about a second).

The strategy picks one in ``begin`` (:func:`make_day_step`) and never branches on
it afterwards. This module imports neither torch nor numba: each backend's module
is imported when it is picked.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from strategies.nn.lstm_init import LstmShape

Backend = Literal["torch", "numba"]


@runtime_checkable
class LstmDayStep(Protocol):
    """One day of the online LSTM, for every seed at once.

    ``shape`` is the models' layout, ``params`` their parameter rows (S rows; a lone
    seed has a shadow row, see :mod:`strategies.nn.seeding`): a tensor on the torch
    path, a numpy array on the compiled one; ``model`` the parameters as a
    :class:`~strategies.nn.batched_lstm.BatchedLSTM` (on the compiled path made on
    first use, importing torch). ``kept`` is the number of steps kept for BPTT (at
    most ``ring``). With ``carry`` the hidden state runs on from step to step
    (stateful); without, each ``step`` starts from a zero state and forgets the
    steps kept before (stateless: a window of days per call).
    """

    shape: LstmShape
    params: Any

    @property
    def model(self) -> Any:
        """The parameters as a ``BatchedLSTM`` (for inspection: the run does not ask)."""
        ...

    @property
    def kept(self) -> int:
        """Steps kept for back-propagation (0 before the first ``step``)."""
        ...

    def step(self, xs: np.ndarray) -> np.ndarray:
        """Run the steps ``xs`` (T, tickers, inputs) float32 (oldest first); returns the last step's
        predictions (seeds, tickers) in target units (the running std), as float32 numpy."""
        ...

    def learn(self, target: np.ndarray, known: np.ndarray) -> np.ndarray:
        """One optimizer step on the newest kept step's outputs against ``target`` (tickers,) where
        ``known`` (tickers, bool; at least one True); returns each seed's raw gradient norm (float64)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """numpy arrays (copies), the same keys, shapes and dtypes on both backends: ``params``,
        ``optimizer``, ``pending`` (kept steps, oldest first, as ``StepCache.state_dict()`` dicts),
        ``extra`` (``h``/``c`` per layer with ``carry``, else empty)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (also from checkpoints written by the other backend)."""
        ...


def make_day_step(
    backend: Backend,
    shape: LstmShape,
    training: Any,
    ring: int,
    n_tickers: int,
    carry: bool,
    device: Any = None,
) -> LstmDayStep:
    """The day step of ``backend`` for ``shape``'s seeds, trained as ``training`` says (the strategy's
    parameters: ``lr``, ``optimizer``, ``loss``, ``grad_mode``, ``grad_norm``, ``target``, ...); the
    torch path's model on ``device`` (a ``torch.device``; None: the CPU), numba: CPU only."""
    if backend == "numba":
        from strategies.nn.numba_day_step import NumbaDayStep

        return NumbaDayStep(shape, training, ring, n_tickers, carry)
    from strategies.nn.torch_day_step import TorchDayStep

    return TorchDayStep.of(shape, training, ring, n_tickers, carry, device)
