"""The online LSTM's day step over the numba kernels of :mod:`strategies.nn.lstm_kernel`, without torch.

:class:`NumbaDayStep` is the :class:`~strategies.nn.day_step.LstmDayStep` of the
compiled path: the parameters (:meth:`LstmShape.initial_params`, the torch path's
initial bits), the optimizer's moments, the kept steps (a ring of slots) and the
hidden state are numpy arrays it owns; the kernels update them in place, Python is
entered twice a day. Why no torch: importing it costs about a second, a quarter
of a warm ``lstm-stateful`` run. Its checkpoint state has the torch path's keys,
shapes and dtypes as numpy arrays (``TorchDayStep`` writes the same), so a run
continues on either backend.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from strategies.nn.loss_kernels import LossKind
from strategies.nn.lstm_init import LstmShape
from strategies.nn.lstm_kernel import (
    GradMode,
    Net,
    OptimizerKind,
    OptimizerState,
    Training,
    _new_cache,
    forward_steps,
    learn_step,
    new_work,
)
from strategies.nn.optim_settings import ADAM_BETAS, ADAM_EPS, RMSPROP_ALPHA, RMSPROP_EPS

LAYER_KEYS = ("x", "h_prev", "sig", "cand", "c_prev", "act_c")  # a kept step's layer, as StepCache names them


class _Bound:
    """``kernel``'s compiled specialization for the argument types of the first call, then called
    without numba's per-call type dispatch: numba types a named-tuple argument in Python, ~5 us a
    call, ~10% of a one-ticker day step (measured side by side). Later calls must pass the same
    types; :class:`NumbaDayStep` builds every argument itself (dtype and layout fixed)."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.entry: Any = None

    def __call__(self, *args: Any) -> None:
        if self.entry is None:  # compiles, or finds the warm-up's (or the disk cache's) specialization
            self.entry = self.kernel.compile(tuple(numba.typeof(a) for a in args))
        self.entry(*args)


class NumbaDayStep:
    """:class:`~strategies.nn.day_step.LstmDayStep` compiled with numba (CPU): ``shape``'s seeds
    trained with ``training``'s loss, gradient mode and optimizer (Adam or RMSprop).

    ``training``: anything with ``loss``, ``grad_mode``, ``grad_norm``, ``optimizer`` and
    ``lr`` (the strategy's parameters). The kept steps sit in a ring of ``ring`` slots
    (``bptt`` or ``window``).
    """

    def __init__(self, shape: LstmShape, training: Any, ring: int, n_tickers: int, carry: bool) -> None:
        self.shape, self.carry, self.lr = shape, carry, float(training.lr)
        self.params = shape.initial_params()
        self._model: Any = None
        width, layers = shape.width, shape.layers
        layout, offset = [], 0
        for layer in range(layers):
            n_in = shape.n_inputs if layer == 0 else width
            w_size = (n_in + width) * 4 * width
            layout.append((offset, offset + w_size, n_in))
            offset += w_size + 4 * width
        self.net = Net(
            np.array(layout, dtype=np.int64),
            np.array([offset, offset + width], dtype=np.int64),
            width,
            np.float32(shape.phi),
        )
        self.n_seeds, rows = len(shape.seeds), len(shape.rows)
        self.training = Training.of(
            LossKind[training.loss.upper()],
            GradMode[training.grad_mode.upper()],
            training.grad_norm,
            OptimizerKind[training.optimizer.upper()],
        )
        self.cache = _new_cache(ring, layers, rows, n_tickers, width, shape.n_inputs)
        self.work = new_work(ring, layers, n_tickers, width, shape.n_inputs)
        self.z = np.zeros(4 * width, np.float32)  # forward_steps' scratch
        self.ring = ring
        self.newest = -1  # ring slot of the newest kept step
        self._kept = 0  # steps kept (at most ring)
        self.state_shape = (layers, rows, n_tickers, width)
        self.h, self.c = np.zeros(self.state_shape, np.float32), np.zeros(self.state_shape, np.float32)
        self.grad_norms = np.zeros(rows)  # the last step's raw gradient norm per row
        self._forward, self._learn = _Bound(forward_steps), _Bound(learn_step)
        # the optimizer's state, as torch's flat optimizers (strategies.nn.optim) hold it
        self.state1 = np.zeros_like(self.params)  # Adam's exp_avg, RMSprop's square_avg
        if self.training.optimizer == OptimizerKind.ADAM:
            self.state2 = np.zeros_like(self.params)  # exp_avg_sq
            self.steps = np.zeros((), np.float32)  # 0-d float32, as torch counts
        else:
            self.state2 = self.state1

    @property
    def kept(self) -> int:
        return self._kept

    @property
    def model(self) -> Any:
        """The parameters as a :class:`~strategies.nn.batched_lstm.BatchedLSTM` (imports torch; the
        tensor shares this step's memory): for inspection and comparisons, the run never asks."""
        if self._model is None:
            from strategies.nn.batched_lstm import BatchedLSTM

            s = self.shape
            self._model = BatchedLSTM(
                s.seeds, s.n_inputs, s.hidden, s.layers, s.activation, params=self.params
            )
        return self._model

    def step(self, xs: np.ndarray) -> np.ndarray:
        if self.carry:
            h, c = self.h, self.c
        else:  # a fresh zero state, and the kept steps forgotten (stateless)
            self.newest, self._kept = -1, 0
            h, c = np.zeros(self.state_shape, np.float32), np.zeros(self.state_shape, np.float32)
        xs = np.ascontiguousarray(xs, dtype=np.float32)  # the bound specialization's type (no copy)
        if xs.ndim != 3:
            raise ValueError(f"inputs must be (steps, tickers, inputs), not shape {xs.shape}")
        steps = xs.shape[0]
        slot0 = (self.newest + 1) % self.ring
        self._forward(self.params, self.net, xs, h, c, slot0, self.cache, self.z)
        self.newest = (slot0 + steps - 1) % self.ring
        self._kept = min(self._kept + steps, self.ring)
        return self.cache.yo[self.newest][: self.n_seeds]

    def learn(self, target: np.ndarray, known: np.ndarray) -> np.ndarray:
        if self.training.optimizer == OptimizerKind.ADAM:
            self.steps += np.float32(1.0)
            step = float(self.steps)
            beta1, beta2 = ADAM_BETAS
            bc1, bc2 = 1.0 - beta1**step, 1.0 - beta2**step
            hyper = np.array(
                [self.lr / bc1, 1.0 - beta1, beta2, 1.0 - beta2, 1.0 / math.sqrt(bc2), ADAM_EPS],
                dtype=np.float32,
            )
        else:
            hyper = np.array([self.lr, RMSPROP_ALPHA, 1.0 - RMSPROP_ALPHA, RMSPROP_EPS], dtype=np.float32)
        self._learn(
            self.params,
            self.net,
            self.cache,
            self.newest,
            self._kept,
            np.where(known, target, 0.0).astype(np.float32),
            known.astype(np.float32),
            int(known.sum()),
            self.training,
            OptimizerState(self.state1, self.state2, hyper),
            self.grad_norms,
            self.work,
        )
        return self.grad_norms[: self.n_seeds].copy()

    # --- checkpoints: numpy arrays with the torch path's keys, shapes and dtypes --------------
    def state_dict(self) -> dict[str, Any]:
        if self.training.optimizer == OptimizerKind.ADAM:
            optimizer = {
                "exp_avg": self.state1.copy(),
                "exp_avg_sq": self.state2.copy(),
                "steps": self.steps.copy(),
            }
        else:
            optimizer = {"square_avg": self.state1.copy()}
        return {
            "params": self.params.copy(),
            "optimizer": optimizer,
            "pending": self._kept_steps(),
            "extra": {key: [a.copy() for a in arr] for key, arr in (("h", self.h), ("c", self.c))}
            if self.carry
            else {},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s state (numpy arrays, or CPU tensors from the torch path)."""
        self.params[...] = np.asarray(state["params"])
        opt = state["optimizer"]
        if self.training.optimizer == OptimizerKind.ADAM:
            self.state1[...], self.state2[...] = np.asarray(opt["exp_avg"]), np.asarray(opt["exp_avg_sq"])
            self.steps[...] = np.asarray(opt["steps"])
        else:
            self.state1[...] = np.asarray(opt["square_avg"])
        self._load_kept_steps(state["pending"])
        if self.carry:
            self.h, self.c = (
                np.stack([np.array(t, dtype=np.float32) for t in state["extra"][key]]) for key in ("h", "c")
            )

    def _kept_steps(self) -> list[dict[str, Any]]:
        """The kept steps, oldest first, as the torch path's ``StepCache.state_dict()`` (numpy copies)."""
        cache, rows = self.cache, len(self.shape.rows)
        out = []
        for back in range(self._kept - 1, -1, -1):
            k = (self.newest - back) % self.ring
            layers = []
            for layer in range(self.net.layout.shape[0]):
                x = (
                    np.broadcast_to(cache.xc[k], (rows, *cache.xc[k].shape))
                    if layer == 0
                    else cache.ho[k, layer - 1]
                )
                values = (
                    x,
                    cache.hp[k, layer],
                    cache.sg[k, layer],
                    cache.cd[k, layer],
                    cache.cp[k, layer],
                    cache.ac[k, layer],
                )
                arrays = (np.array(v, dtype=np.float32) for v in values)
                layers.append(dict(zip(LAYER_KEYS, arrays, strict=True)))
            out.append({"layers": layers, "top": cache.ho[k, -1].copy(), "output": cache.yo[k].copy()})
        return out

    def _load_kept_steps(self, steps: list[dict[str, Any]]) -> None:
        """Refill the ring from kept steps in :meth:`_kept_steps`' form, oldest first (from a checkpoint)."""
        steps = steps[-self.ring :]
        cache = self.cache
        for k, step in enumerate(steps):
            layers = step["layers"]
            cache.xc[k] = np.asarray(layers[0]["x"])[0]
            for layer, lc in enumerate(layers):
                cache.hp[k, layer] = np.asarray(lc["h_prev"])
                cache.sg[k, layer] = np.asarray(lc["sig"])
                cache.cd[k, layer] = np.asarray(lc["cand"])
                cache.cp[k, layer] = np.asarray(lc["c_prev"])
                cache.ac[k, layer] = np.asarray(lc["act_c"])
                cache.ho[k, layer] = np.asarray(
                    layers[layer + 1]["x"] if layer + 1 < len(layers) else step["top"]
                )
            cache.yo[k] = np.asarray(step["output"])
        self._kept = len(steps)
        self.newest = self._kept - 1 if steps else -1
