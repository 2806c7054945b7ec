"""Stock-RNN: LSTMs that predict the next day's delta and learn online, one step per day.

``lstm-stateful`` carries its hidden state from day to day (never reset);
``lstm-stateless`` sees only a window of the last W days from a zero state. Both
follow the classic online protocol, driven by the engine:

- at day t's close (``decide``): build the input from what is known at t (the last
  ``lags`` deltas and any extra feature rows, scaled by running statistics of the
  past), run the model, turn the predicted delta of (t, t+1] into target weights,
  and keep the step's activations;
- at day t+1's close (``learn``): the realized delta of t+1 is known; take one
  optimizer step on (input at t -> delta of t+1), back-propagating through the
  kept activations (``bptt`` steps for the stateful model, the whole window for
  the stateless one). The hidden state carried forward is the one computed at t,
  so predicting and training share one forward pass ("save state, predict,
  restore, fit one step, save state" without the recomputation).

All seeds train together in one :class:`BatchedLSTM`. During the warm-up (default
the first 5 years of the data) the models learn but do not trade. Targets are the
deltas divided by their running standard deviation (not centered, so the sign is
kept). Until a column's statistics rest on ``norm_days`` values (default 20; a std
from 2 values can be tiny and blow the first targets up) its inputs are 0 and a
ticker gives no target, so no learning step uses an undefined scale. Predictions
are scaled back to delta units before the signal threshold. With several seeds an
``ensemble`` member trades on the mean of their predictions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from strategies.history import History
from strategies.learning import (
    LearningParams,
    OnlineReducedParams,
    OnlineReduction,
    SignalParams,
    feature_names,
    feature_rows,
    to_target,
    weights_for,
)
from strategies.nn.day_step import Backend, LstmDayStep, make_day_step
from strategies.nn.device import current_device_name
from strategies.nn.lstm_init import LstmShape
from strategies.nn.normalize import RunningNorm
from strategies.seeded import SeededOnlineStrategy

if TYPE_CHECKING:
    import torch

# Parameters the compiled day step (strategies.nn.lstm_kernel) implements. Any other
# field (e.g. one added later) must be at its default for backend=auto to use it.
_KERNEL_FIELDS = frozenset(
    {
        "lr",
        "optimizer",
        "loss",
        "grad_mode",
        "grad_norm",
        "signal",
        "threshold",
        "ensemble",
        "features",
        "hidden",
        "layers",
        "lags",
        "activation",
        "norm_days",
        "warmup_years",
        "bptt",
        "window",
        "backend",
    }
)


class LstmParams(LearningParams, SignalParams, OnlineReducedParams):
    hidden: int = Field(64, ge=1, le=1024, description="hidden units per layer")
    layers: int = Field(1, ge=1, le=4, description="stacked LSTM layers")
    lags: int = Field(1, ge=1, le=250, description="last k daily deltas as inputs")
    activation: Literal["tanh", "phi_tanh"] = Field("tanh", description="cell activation")
    norm_days: int = Field(
        20,
        ge=2,
        le=2520,
        description="values a column needs before its running std scales inputs and targets; "
        "no learning from a ticker before [days]",
    )
    warmup_years: float = Field(5.0, ge=0, le=50, description="train without trading for this long [years]")
    backend: Literal["auto", "numba", "torch"] = Field(
        "auto",
        description="day step compiled with numba, or torch (the reference); auto: numba when it "
        "implements the options, else torch",
    )


class StatefulParams(LstmParams):
    bptt: int = Field(1, ge=1, le=250, description="truncated-BPTT length [days]")


class StatelessParams(LstmParams):
    window: int = Field(20, ge=1, le=500, description="days the model sees, from a zero state")


class _OnlineLstm(SeededOnlineStrategy):
    """Shared machinery; subclasses say how a day's forward pass is built.

    The day step (:mod:`strategies.nn.day_step`: forward, backward, optimizer) is
    chosen once in ``setup``, torch or numba (:meth:`backend`); this class only
    builds inputs and targets and keeps the running statistics.
    """

    params: LstmParams
    # torch's deterministic mode on an accelerator only, as these strategies always ran: on the CPU
    # one torch thread is deterministic already, and the mode would NaN-fill every new tensor
    deterministic_on_cpu = False
    carry: ClassVar[bool]  # hidden state carried from day to day (stateful)

    def torch_device(self) -> torch.device:
        # the numba kernel is the CPU path: backend=numba keeps the CPU; auto on a GPU takes the torch
        # path there (the seeds as one batched model on the device)
        import torch

        return torch.device(current_device_name() if self.backend() == "torch" else "cpu")

    def uses_torch(self) -> bool:
        # the compiled day step runs without torch: begin then imports nothing of it (about a second)
        return self.backend() == "torch"

    # --- set-up -----------------------------------------------------------------------
    def setup(self, history: History) -> None:
        p = self.params
        self.feature_names = feature_names(p.features, history)
        self.n_tickers = len(history.tickers)
        widths = [history.feature(n).reshape(history.n_days, -1).shape[1] for n in self.feature_names]
        self.n_features = int(sum(widths))
        self.reduction: OnlineReduction | None = None
        if p.pca and self.n_features:  # the model sees d reduced columns instead (issue 16)
            fit_day = history.dates[0] + np.timedelta64(round(p.pca_years * 365.25), "D")
            self.reduction = OnlineReduction(self.n_features, p.pca, fit_day)
            self.n_features = p.pca
        shape = LstmShape(self.seeds, p.lags + self.n_features, p.hidden, p.layers, p.activation)
        backend = self.backend()
        device = self.device if backend == "torch" else None
        self.day_step: LstmDayStep = make_day_step(
            backend, shape, p, self._ring(), self.n_tickers, self.carry, device
        )
        self.delta_norm = RunningNorm(self.n_tickers, min_count=p.norm_days)
        self.feature_norm = RunningNorm(self.n_features, min_count=p.norm_days)
        first = history.dates[0].astype(dt.date)
        self.trade_from = np.datetime64(first + dt.timedelta(days=round(p.warmup_years * 365.25)), "D")
        self.pending_scale: np.ndarray | None = None  # running std at the kept step's close
        # diagnostics: learning steps taken, and the last one's raw gradient norm per seed
        self.learn_steps = 0
        self.grad_norms: np.ndarray | None = None
        self.day = -1
        self._observe(history)

    @property
    def model(self) -> Any:
        """The seeds' model as a :class:`~strategies.nn.batched_lstm.BatchedLSTM` (its parameters; held
        by the day step; on the compiled path made on first use, importing torch)."""
        return self.day_step.model

    def warm_up(self) -> tuple[str, Callable[[], None]] | None:
        """Compile the numba day step while the data loads, when this run will use it."""
        if self.params.backend == "torch" or (
            self._kernel_reason() is not None and self.params.backend != "numba"
        ):
            return None
        # the progress label: fits an 80-column terminal beside the bar, an 8313/8313 count and the time
        what = "numba: LSTM day step (first run compiles)"
        from strategies.nn.lstm_kernel import warm_up

        return what, warm_up

    def _kernel_reason(self) -> str | None:
        """None when the compiled day step implements these parameters, else why not."""
        from strategies.nn.lstm_kernel import supported

        p = self.params
        reason = supported(p.model_dump())
        fields = type(p).model_fields
        for name in sorted(set(fields) - _KERNEL_FIELDS):
            if reason is None and getattr(p, name) != fields[name].default:
                reason = f"parameter {name}={getattr(p, name)!r}"
        return reason

    def backend(self) -> Backend:
        """The day step's backend for this run: numba when ``backend`` asks for it (or is auto) and it
        implements the options, on the CPU; else torch."""
        p = self.params
        if p.backend == "torch" or (p.backend == "auto" and current_device_name() != "cpu"):
            return "torch"  # the compiled day step is the CPU path; on a GPU the torch path runs there
        reason = self._kernel_reason()
        if reason is not None:
            if p.backend == "numba":
                raise ValueError(f"backend=numba does not implement {reason}; use backend=auto or torch")
            return "torch"
        return "numba"

    def _ring(self) -> int:
        """Steps kept for back-propagation."""
        raise NotImplementedError

    def _observe(self, history: History) -> None:
        """Add the newest day to the running statistics (its values are known at its close)."""
        self.day = history.n_days - 1
        self.delta_norm.update(history.deltas[-1])
        if self.reduction is not None and not self.reduction.fitted:
            self.reduction.observe(history, self.feature_names)
            if self.reduction.fitted:  # fitted today: the reduced rows so far, all known now, enter the norm
                for row in self._features(history, slice(0, history.n_days)):
                    self.feature_norm.update(row)
        elif self.n_features:
            self.feature_norm.update(self._features(history, np.array([history.n_days - 1]))[0])

    def _features(self, history: History, rows: slice | np.ndarray) -> np.ndarray:
        """The model's extra feature columns on ``rows``: raw, or through the causal reduction."""
        raw = feature_rows(history, self.feature_names, rows)
        return raw if self.reduction is None else self.reduction.transform(raw)

    def _inputs(self, history: History, first: int, last: int) -> np.ndarray:
        """Inputs for rows first..last: (T, n_tickers, lags + n_features), scaled by today's statistics."""
        lags = self.params.lags
        lo = first - lags + 1
        rows = history.deltas[max(lo, 0) : last + 1]
        if lo < 0:
            rows = np.vstack([np.full((-lo, self.n_tickers), np.nan), rows])
        scaled = self.delta_norm.transform(rows)  # (T + lags - 1, tickers)
        steps = last - first + 1
        if steps == 1:  # the stateful model's daily case, without the window machinery
            windows = scaled.T[None]  # (1, tickers, lags)
        else:
            windows = np.lib.stride_tricks.sliding_window_view(scaled, lags, axis=0)[
                :steps
            ]  # (T, tickers, lags)
        if self.n_features:
            feats = self.feature_norm.transform(self._features(history, slice(first, last + 1)))
            windows = np.concatenate(
                [windows, np.broadcast_to(feats[:, None, :], (steps, self.n_tickers, self.n_features))],
                axis=2,
            )
        return np.ascontiguousarray(windows, dtype=np.float32)

    # --- the online protocol ----------------------------------------------------------
    def learn(self, history: History) -> None:
        if self.day_step.kept and self.pending_scale is not None:
            target = to_target(self.params.target, history.deltas[-1], self.pending_scale)
            known = ~np.isnan(target)
            if known.any():
                self.grad_norms = self.day_step.learn(target, known)
                self.learn_steps += 1
        self._observe(history)

    def decide(self, history: History) -> np.ndarray:
        scale = self.delta_norm.std
        y = self._forward(history)  # (seeds, tickers), in units of the running std
        # a ticker whose std is not defined yet gets no target: dividing by the floor
        # (or a std of 2 values) would make it up to 1e6 times too large (issue 16)
        self.pending_scale = np.where(self.delta_norm.ready, scale, np.nan)
        weights = weights_for(y.astype(np.float64) * scale, scale, self.params)
        if history.today < self.trade_from:
            weights[:] = np.nan  # warm-up: learn, do not trade
        return weights

    def _forward(self, history: History) -> np.ndarray:
        """Predictions (seeds, tickers) for the next day, in units of the running std."""
        raise NotImplementedError

    # --- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        step = self.day_step.state_dict()  # numpy arrays on either backend: a run continues on any device
        return {
            "params": step["params"],
            "optimizer": step["optimizer"],
            "delta_norm": {k: np.array(v) for k, v in self.delta_norm.state_dict().items()},
            "feature_norm": {k: np.array(v) for k, v in self.feature_norm.state_dict().items()},
            "pending": step["pending"],
            "pending_scale": None if self.pending_scale is None else self.pending_scale.copy(),
            "day": self.day,
            "extra": step["extra"],
            **({"reduction": self.reduction.state_dict()} if self.reduction is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.day_step.load_state_dict(state)
        self.delta_norm.load_state_dict({k: np.array(v) for k, v in state["delta_norm"].items()})
        self.feature_norm.load_state_dict({k: np.array(v) for k, v in state["feature_norm"].items()})
        scale = state["pending_scale"]
        self.pending_scale = None if scale is None else np.array(scale)
        self.day = int(state["day"])
        if self.reduction is not None:
            self.reduction.load_state_dict(state["reduction"])


class LstmStateful(_OnlineLstm):
    """Hidden state carried over all days; truncated BPTT over the last ``bptt`` days."""

    name = "lstm-stateful"
    summary = "stateful LSTM, next-day delta, online one step per day (the user's model)"
    Params = StatefulParams
    params: StatefulParams
    carry = True

    def _ring(self) -> int:
        return self.params.bptt

    def _forward(self, history: History) -> np.ndarray:
        t = history.n_days - 1
        return self.day_step.step(self._inputs(history, t, t))


class LstmStateless(_OnlineLstm):
    """Each day a fresh zero state over the last ``window`` days; BPTT through the window."""

    name = "lstm-stateless"
    summary = "stateless LSTM over a window of the last W days, online one step per day"
    Params = StatelessParams
    params: StatelessParams
    carry = False

    def _ring(self) -> int:
        return self.params.window

    def _forward(self, history: History) -> np.ndarray:
        t = history.n_days - 1
        return self.day_step.step(self._inputs(history, max(0, t - self.params.window + 1), t))
