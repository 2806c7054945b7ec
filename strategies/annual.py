"""Annual stock picking with a learned model: ``lstm-annual`` and ``transformer-annual``.

At the last close of each year (year end T), every stock with a price at T and a
year before (and a member of the run's point-in-time universe at T, when it has
one: then training pairs come from members only, too) is described by a sequence
of its last 12 months (21 trading days each, oldest first): the month's return
and the volatility of its daily deltas (plus the month's mean of any extra
feature columns, e.g. headline embeddings, optionally reduced to ``pca``
principal components fitted on the training pairs). One model across all
tickers predicts each stock's delta over the next calendar year; the strategy
holds the top ``top_k`` for that year, equal-weight or weighted by predicted
delta.

Walk-forward, year by year: the model fitted at year end T_k learns from pairs
(features at T_j -> delta from T_j to T_{j+1}) for every earlier year end with
T_{j+1} <= T_k, so it never sees the year it predicts. Inputs are standardized
with statistics of those training pairs only; targets are divided by their
training std. The first picks come once ``min_years`` years of pairs exist. The
first fit takes ``steps`` optimizer steps from each seed's initialization; later
fits continue from the previous year's weights (``warm_start``, with a fresh
optimizer) for ``update_steps`` steps, or start afresh. Each step uses a
mini-batch of ``batch`` pairs (all of them when fewer), drawn by a generator
seeded with the fit's date, so a seed trains the same alone or among others and
after a resume. With several seeds an ``ensemble`` member picks by the seeds'
mean prediction.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from strategies.history import History
from strategies.learning import (
    CausalPCA,
    LearningParams,
    ReducedFeatureParams,
    Trainer,
    feature_names,
    feature_rows,
    to_target,
)
from strategies.nn.batched_lstm import BatchedLSTM
from strategies.nn.device import to_device
from strategies.nn.last_output import last_output_gradient, last_output_prediction
from strategies.nn.transformer import BatchedTransformer, TransformerShape
from strategies.seeded import SeededWalkForwardStrategy
from strategies.top_k import top_k_weights

MONTH_DAYS = 21  # trading days per month of a stock's description

# Model sizes of the annual pickers, fixed (not strategy parameters: the training
# options are, see AnnualParams). Small on purpose: a year end gives one training
# pair per stock, a few thousand pairs over a run.
LSTM_HIDDEN = 32  # lstm-annual: hidden units of its one layer
TRANSFORMER_D_MODEL = 32  # transformer-annual: model width
TRANSFORMER_LAYERS = 2  # encoder layers
TRANSFORMER_HEADS = 4  # attention heads (divide the width)
TRANSFORMER_FFN = 64  # feed-forward width


class AnnualParams(LearningParams, ReducedFeatureParams):
    top_k: int = Field(5, ge=1, description="stocks held for the next year")
    weighting: Literal["equal", "score"] = Field(
        "equal", description="equal weights, or by positive predicted delta"
    )
    months: int = Field(12, ge=2, le=60, description="months of history describing a stock")
    min_years: int = Field(3, ge=1, le=50, description="years of training pairs before the first picks")
    steps: int = Field(100, ge=1, le=10_000, description="training steps of the first fit")
    update_steps: int = Field(25, ge=1, le=10_000, description="training steps of each later fit")
    warm_start: bool = Field(True, description="later fits continue from the previous year's weights")
    batch: int = Field(128, ge=8, le=100_000, description="training pairs per step (mini-batch)")
    ensemble: bool = Field(True, description="add an ensemble member picking by the mean prediction")


class TransformerAnnualParams(AnnualParams):
    # fewer steps than the LSTM's: with a zero output layer, more steps only fitted noise
    # (out-of-sample loss measured in benchmarks/transformer_bench.py), and cost 4x the time
    steps: int = Field(25, ge=1, le=10_000, description="training steps of the first fit")
    update_steps: int = Field(5, ge=1, le=10_000, description="training steps of each later fit")
    head_init: Literal["zero", "uniform"] = Field(
        "zero",
        description="output layer at initialization: zero (first predictions 0) or uniform like nn.Linear",
    )
    attention: Literal["fused", "explicit"] = Field(
        "fused", description="attention kernel: torch's fused one, or the softmax written out (reference)"
    )


def monthly_features(
    history: History, t: int, months: int, extra: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Features of every ticker at year end row ``t``: (months, tickers, 2 + F), and eligibility (tickers,).

    Month m (0 = oldest) covers rows ``t - (months - m) * 21 + 1 .. t - (months - m - 1) * 21``.
    """
    close, deltas = history.close, history.deltas
    k = close.shape[1]
    n_extra = feature_rows(history, extra, np.array([t])).shape[1]
    out = np.zeros((months, k, 2 + n_extra))
    start = t - months * MONTH_DAYS
    if start < 0:
        return out, np.zeros(k, dtype=bool)
    eligible = ~np.isnan(close[t]) & ~np.isnan(close[start])
    if history.universe is not None:  # members at t only, for picks and training pairs alike
        eligible &= history.universe[t]
    for m in range(months):
        lo, hi = start + m * MONTH_DAYS, start + (m + 1) * MONTH_DAYS
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # months before a ticker starts: NaN, zeroed
            out[m, :, 0] = close[hi] / close[lo] - 1.0
            out[m, :, 1] = np.nanstd(deltas[lo + 1 : hi + 1], axis=0)
        if n_extra:
            out[m, :, 2:] = feature_rows(history, extra, slice(lo + 1, hi + 1)).mean(axis=0)
    return np.nan_to_num(out), eligible


class _AnnualPicker(SeededWalkForwardStrategy):
    frequency = "annual"
    Params = AnnualParams
    params: AnnualParams
    # deterministic algorithms on an accelerator only, as before this class used the seeded base:
    # on the CPU one torch thread is deterministic already (the mode would NaN-fill new tensors)
    deterministic_on_cpu = False

    def setup(self, history: History) -> None:
        self.extra = feature_names(self.params.features, history)
        n_extra = feature_rows(history, self.extra, np.array([0])).shape[1]
        d = self.params.pca
        self.pca = CausalPCA(n_extra, d) if d and n_extra > d else None
        self.n_raw = 2 + n_extra
        self.n_inputs = 2 + (d if self.pca else n_extra)
        self.built = False
        # monthly features per year-end row: a function of rows <= t only, so each is computed
        # once per run instead of at every later fit (500 tickers x 30 years: minutes otherwise)
        self._monthly: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def training_pairs(self, history: History) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(inputs (n, months, F), targets (n,), year-end rows used) from year ends before today."""
        ends = np.flatnonzero(history.year_end)
        xs, ys, used = [], [], []
        for j in range(len(ends) - 1):
            t, nxt = ends[j], ends[j + 1]  # nxt <= today: the target is known
            if t not in self._monthly:
                self._monthly[t] = monthly_features(history, t, self.params.months, self.extra)
            feats, ok = self._monthly[t]
            ok = ok & ~np.isnan(history.close[nxt])
            if not ok.any():
                continue
            xs.append(feats[:, ok].transpose(1, 0, 2))
            ys.append(history.close[nxt, ok] / history.close[t, ok] - 1.0)
            used.append(int(t))
        if not xs:
            return np.zeros((0, self.params.months, self.n_raw)), np.zeros(0), []
        return np.concatenate(xs), np.concatenate(ys), used

    def is_retrain_day(self, history: History) -> bool:
        if not history.year_end[-1]:
            return False
        ends = np.flatnonzero(history.year_end)
        return len(ends) - 1 >= self.params.min_years + (self.params.months * MONTH_DAYS > ends[0])

    def fit(self, history: History, seeds: tuple[int, ...]) -> None:
        x, y, used = self.training_pairs(history)
        self.last_training_years = used
        if len(y) == 0:
            return
        if self.pca is not None:  # components from the training pairs only
            self.pca.fit(x[..., 2:].reshape(-1, self.n_raw - 2))
        x = self._reduce(x)
        flat = x.reshape(-1, x.shape[2])
        self.mean, self.std = flat.mean(axis=0), np.maximum(flat.std(axis=0, ddof=1), 1e-8)
        self.y_std = max(float(y.std(ddof=1)), 1e-8) if len(y) > 1 else 1.0
        inputs = to_device(torch.from_numpy(((x - self.mean) / self.std).astype(np.float32)), self.device)
        targets = to_device(
            torch.from_numpy(to_target(self.params.target, y, self.y_std).astype(np.float32)), self.device
        )
        p = self.params
        first = not (p.warm_start and self.built)
        if first:
            self._build()
        self.trainer = Trainer(p, self.model.params)
        sampler = torch.Generator().manual_seed(int(history.today.astype(np.int64)))
        for _ in range(p.steps if first else p.update_steps):
            if len(targets) > p.batch:
                pick = to_device(torch.randperm(len(targets), generator=sampler)[: p.batch], self.device)
                self._step(inputs[pick], targets[pick])
            else:
                self._step(inputs, targets)

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        """(..., 2 + F) monthly rows -> (..., n_inputs): the extra columns through the PCA, if any."""
        if self.pca is None:
            return x
        return np.concatenate([x[..., :2], self.pca.transform(x[..., 2:])], axis=-1)

    def decide(self, history: History) -> np.ndarray:
        n_members = len(self.members(self.seeds))
        k = len(history.tickers)
        if not history.year_end[-1]:
            return np.full((n_members, k), np.nan)
        weights = np.zeros((n_members, k))
        columns, predicted = self.predict(history)
        if not columns.size:
            return weights
        if self.params.ensemble and len(self.seeds) > 1:
            predicted = np.vstack([predicted, predicted.mean(axis=0, keepdims=True)])
        for row, scores in enumerate(predicted):
            positions, picked = top_k_weights(scores, self.params.top_k, self.params.weighting)
            weights[row, columns[positions]] = picked
        return weights

    def predict(self, history: History) -> tuple[np.ndarray, np.ndarray]:
        """At a year end: the eligible ticker columns (n,) and each seed's predicted delta over
        the next calendar year for them, (seeds, n) as fractions."""
        feats, ok = monthly_features(history, history.n_days - 1, self.params.months, self.extra)
        columns = np.flatnonzero(ok)
        if not columns.size:
            return columns, np.zeros((len(self.seeds), 0))
        rows = self._reduce(feats[:, ok].transpose(1, 0, 2))
        inputs = to_device(torch.from_numpy(((rows - self.mean) / self.std).astype(np.float32)), self.device)
        with torch.inference_mode():
            return columns, self._predict(inputs).astype(np.float64) * self.y_std

    def _step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """One optimizer step on (pairs, months, F) inputs and (pairs,) scaled targets."""
        raise NotImplementedError

    def _predict(self, inputs: torch.Tensor) -> np.ndarray:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"fitted": self.built}
        if self.built:
            state.update(
                mean=torch.from_numpy(self.mean),
                std=torch.from_numpy(self.std),
                y_std=self.y_std,
                model=self._model_state(),
            )
            if self.pca is not None:
                state.update(pca=self.pca.state_dict())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["fitted"]:
            self.mean, self.std = state["mean"].numpy().copy(), state["std"].numpy().copy()
            self.y_std = float(state["y_std"])
            if self.pca is not None:
                self.pca.load_state_dict(state["pca"])
            self._load_model_state(state["model"])

    def _model_state(self) -> torch.Tensor:
        return self.model.params.detach().cpu().clone()  # checkpoints hold CPU tensors

    def _load_model_state(self, params: torch.Tensor) -> None:
        self._build()
        with torch.no_grad():
            self.model.params.copy_(params)

    def _build(self) -> None:
        """A fresh model (each seed's initialization) in ``self.model``."""
        raise NotImplementedError


class LstmAnnual(_AnnualPicker):
    """An LSTM over each stock's last 12 months; see the module docstring."""

    name = "lstm-annual"
    summary = "LSTM over 12 monthly rows per stock, picks the top-k for next year"

    def _build(self) -> None:
        self.model = BatchedLSTM(self.seeds, self.n_inputs, hidden=LSTM_HIDDEN, device=self.device)
        self.built = True

    def _step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        xs = inputs.transpose(0, 1).contiguous()  # (months, pairs, F)
        n = len(targets)
        # the loss is on the last month's prediction only: BatchedLSTM.forward + backward's
        # arithmetic without the other months' heads and the copies (same bits, strategies.nn.last_output)
        grad = last_output_gradient(self.model, xs, lambda y: self.trainer.loss_derivative(y, targets) / n)
        self.trainer.step(grad)

    def _predict(self, inputs: torch.Tensor) -> np.ndarray:
        return last_output_prediction(self.model, inputs.transpose(0, 1).contiguous()).cpu().numpy()


class TransformerAnnual(_AnnualPicker):
    """A causal transformer over each stock's last 12 months; see the module docstring."""

    name = "transformer-annual"
    summary = "transformer over 12 monthly rows per stock, picks the top-k for next year"
    Params = TransformerAnnualParams
    params: TransformerAnnualParams

    def _build(self) -> None:
        p = self.params
        shape = TransformerShape(
            self.n_inputs,
            p.months,
            d_model=TRANSFORMER_D_MODEL,
            layers=TRANSFORMER_LAYERS,
            heads=TRANSFORMER_HEADS,
            ffn=TRANSFORMER_FFN,
            attention=p.attention,
            zero_head=p.head_init == "zero",
        )
        self.model = BatchedTransformer(self.seeds, shape, self.device)
        self.built = True

    def _step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        self.trainer.autograd_step(self.model.forward(inputs), targets)

    def _predict(self, inputs: torch.Tensor) -> np.ndarray:
        return self.model.forward(inputs).cpu().numpy()
