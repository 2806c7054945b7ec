"""What the learned strategies share: parameter blocks, feature columns, predictions to weights.

``lstm-*``, ``transformer`` and the annual pickers, and plugins that want the same
knobs, compose their parameters from these blocks (pydantic models combine by
inheritance) and use the helpers below, so a loss, a gradient mode or a signal
means the same thing everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from strategies.base import ENSEMBLE, Member
from strategies.history import History
from strategies.nn.signals import predictions_to_weights, probabilities_to_weights
from strategies.params import StrategyParams

if TYPE_CHECKING:
    import torch

    from strategies.nn.optim import FlatOptimizer

LossName = Literal["mse", "smooth_l1", "exp_or_log", "smooth_l1_or_l2", "linex", "huber"]
TargetKind = Literal["delta", "direction"]


class LearningParams(StrategyParams):
    """Optimizer, loss, gradient handling and target (the user's training options)."""

    lr: float = Field(1e-3, gt=0, le=1, description="learning rate")
    optimizer: Literal["adam", "rmsprop", "sgd"] = Field("adam", description="optimizer")
    momentum: float = Field(0.0, ge=0, lt=1, description="momentum of optimizer=sgd (0 = plain SGD)")
    loss: LossName = Field("mse", description="loss of e = prediction - target (target=delta)")
    grad_mode: Literal["scale", "clip", "none"] = Field("scale", description="gradient handling per step")
    grad_norm: float = Field(
        1.0,
        gt=0,
        description="norm c for grad_mode scale/clip (e.g. 1.618); under adam/rmsprop a constant "
        "rescaling cancels except through epsilon, under sgd it sets the step",
    )
    target: TargetKind = Field(
        "delta",
        description="delta: the next delta in running-std units, with `loss`; direction: up (delta > 0) "
        "or not, binary cross-entropy on a logit (`loss` unused), signal from the probability",
    )


def to_target(kind: TargetKind, realized: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """Training targets from realized deltas: ``realized / scale`` (delta) or 1.0/0.0 for up/not up
    (direction); NaN wherever ``realized / scale`` is NaN (no target: unknown delta or scale)."""
    scaled = realized / scale
    if kind == "delta":
        return scaled
    return np.where(np.isnan(scaled), np.nan, (np.asarray(realized) > 0).astype(np.float64))


class SignalParams(StrategyParams):
    """How predicted deltas become weights."""

    signal: Literal["long_flat", "long_short", "confidence"] = Field(
        "long_flat", description="how predictions become weights"
    )
    threshold: float = Field(0.0, description="predicted delta above which to be long [fraction]")
    ensemble: bool = Field(True, description="add an ensemble member trading the mean prediction")


class FeatureParams(StrategyParams):
    """Which extra per-day feature columns (e.g. headline embeddings) feed the model."""

    features: str = Field("all", description="extra feature columns: all, none, or names separated by commas")


class ReducedFeatureParams(FeatureParams):
    """Extra features, optionally reduced by PCA fitted at each fit (strategies with a training window)."""

    pca: int = Field(
        0,
        ge=0,
        le=1024,
        description="reduce extra features to d principal components fitted at each fit (0 = off)",
    )


class CausalPCA:
    """Principal components of feature rows, fitted on the rows a fit may use (never later ones).

    ``fit`` centers the rows and takes the top ``d`` right singular vectors (float64,
    each component's sign fixed so its largest entry is positive: deterministic).
    ``transform`` maps (..., F) rows to (..., d). Before any fit it is the identity
    truncated/padded to ``d`` zeros, so shapes never change.
    """

    def __init__(self, n_features: int, d: int) -> None:
        self.d = d
        self.mean = np.zeros(n_features)
        self.components = np.zeros((n_features, d))

    def fit(self, rows: np.ndarray) -> None:
        rows = np.nan_to_num(np.asarray(rows, dtype=np.float64))
        self.mean = rows.mean(axis=0)
        _, _, vt = np.linalg.svd(rows - self.mean, full_matrices=False)
        comps = vt[: self.d].T  # (F, k), k <= d
        signs = np.sign(comps[np.abs(comps).argmax(axis=0), np.arange(comps.shape[1])])
        self.components = np.zeros((rows.shape[1], self.d))
        self.components[:, : comps.shape[1]] = comps * np.where(signs == 0, 1.0, signs)

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return (np.nan_to_num(rows) - self.mean) @ self.components

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted reduction as float64 arrays (what checkpoints store): ``mean`` (F,),
        ``components`` (F, d)."""
        return {"mean": np.asarray(self.mean, dtype=np.float64).copy(), "components": self.components.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (copies: the arrays given stay untouched)."""
        self.mean = np.array(state["mean"])
        self.components = np.array(state["components"])


class OnlineReducedParams(FeatureParams):
    """Extra features of an online strategy through a PCA fitted once, causally (:class:`OnlineReduction`)."""

    pca: int = Field(
        0,
        ge=0,
        le=1024,
        description="reduce extra features to d principal components fitted once on the first "
        "pca_years of data (0 = off: the raw features)",
    )
    pca_years: float = Field(
        1.0, gt=0, le=50, description="years of data the reduction is fitted on, at their last close [years]"
    )


class OnlineReduction:
    """A causal reduction of an online strategy's extra feature rows to ``d`` columns.

    Fitted once, at the close of the first day ``fit_day`` or later (the end of
    ``pca_years`` of data), on the feature rows of days 0..that day, which are all
    known then: each column is standardized by its mean and std over those rows (so
    a count column does not swamp embedding dimensions) and projected on the top
    ``d`` principal components (:class:`CausalPCA`). Before the fit it gives zeros
    (nothing to reduce with yet); the components never change afterwards, so the
    model's inputs keep one meaning. Why once and not refitted: an online model
    learns weights for these columns day by day; refitting would rotate them.
    """

    def __init__(self, n_features: int, d: int, fit_day: np.datetime64) -> None:
        self.d, self.fit_day = d, fit_day
        self.fitted = False
        self.scale = np.ones(n_features)
        self.pca = CausalPCA(n_features, d)

    def observe(self, history: History, names: list[str]) -> None:
        """At each close: fit once ``history.today`` reaches ``fit_day`` (rows 0..today only)."""
        if self.fitted or history.today < self.fit_day:
            return
        rows = np.nan_to_num(feature_rows(history, names, slice(0, history.n_days)))
        self.scale = np.where(rows.std(axis=0) > 0, rows.std(axis=0), 1.0)
        self.pca.fit(rows / self.scale)
        self.fitted = True

    def transform(self, rows: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n, d); zeros before the fit."""
        if not self.fitted:
            return np.zeros((len(rows), self.d))
        return self.pca.transform(np.nan_to_num(rows) / self.scale)

    def state_dict(self) -> dict[str, Any]:
        """Arrays and a bool (what checkpoints store)."""
        return {"fitted": self.fitted, "scale": self.scale.copy(), **self.pca.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.fitted = bool(state["fitted"])
        self.scale = np.array(state["scale"])
        self.pca.load_state_dict(state)


def feature_names(spec: str, history: History) -> list[str]:
    """Resolve a ``features`` parameter against the columns the data has."""
    spec = spec.strip()
    if spec == "none":
        return []
    if spec == "all":
        return list(history.feature_names)
    names = [n.strip() for n in spec.split(",") if n.strip()]
    missing = [n for n in names if n not in history.feature_names]
    if missing:
        raise ValueError(f"features {missing} are not in the data (available: {list(history.feature_names)})")
    return names


def feature_rows(history: History, names: list[str], rows: slice | np.ndarray) -> np.ndarray:
    """Feature columns ``names`` on ``rows`` (a slice or indices of the history), concatenated:
    (n_rows, n_features) float64."""
    index = np.arange(history.n_days)[rows]
    if not names:
        return np.zeros((len(index), 0))
    parts = [history.feature(n)[index].reshape(len(index), -1) for n in names]
    return np.concatenate(parts, axis=1).astype(np.float64)


def members_of(seeds: tuple[int, ...], ensemble: bool) -> tuple[Member, ...]:
    """Seeds, plus ``"ensemble"`` when asked for and there are several seeds."""
    return (*seeds, *((ENSEMBLE,) if ensemble and len(seeds) > 1 else ()))


def weights_for(predicted: np.ndarray, scale: np.ndarray, params: SignalParams) -> np.ndarray:
    """Weights (members, tickers) from model outputs times ``scale`` (seeds, tickers), ensemble row last.

    With ``target=direction`` the model output (``predicted / scale``) is a logit:
    the weights come from the probability of an up day (the ensemble averages
    probabilities), see ``strategies.nn.signals.probabilities_to_weights``.
    """
    if getattr(params, "target", "delta") == "direction":
        logit = predicted / scale
        probability = 1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0)))
        if params.ensemble and len(probability) > 1:
            probability = np.vstack([probability, probability.mean(axis=0, keepdims=True)])
        return probabilities_to_weights(probability, params.signal, params.threshold)
    if params.ensemble and len(predicted) > 1:
        predicted = np.vstack([predicted, predicted.mean(axis=0, keepdims=True)])
    return predictions_to_weights(predicted, scale, params.signal, params.threshold)


class Trainer:
    """Target, loss, gradient mode and optimizer over one flat (seeds, params) tensor.

    torch's modules are imported when a trainer is made, not with this module: the
    compiled LSTM path uses this module's parameters and signals without torch.
    """

    def __init__(self, params: LearningParams, weights: torch.Tensor) -> None:
        from strategies.nn.losses import get_loss
        from strategies.nn.optim import make_optimizer

        self.loss = get_loss(params.loss)
        self.target: TargetKind = params.target
        self.optimizer: FlatOptimizer = make_optimizer(
            params.optimizer, weights, params.lr, momentum=params.momentum
        )
        self.grad_mode, self.grad_norm = params.grad_mode, params.grad_norm

    def to_target(self, realized: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
        """:func:`to_target` for this trainer's target kind."""
        return to_target(self.target, realized, scale)

    def loss_value(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Elementwise loss of predictions against targets (differentiable)."""
        if self.target == "direction":
            from strategies.nn.losses import bce_value

            return bce_value(pred, target)
        return self.loss.value(pred - target)

    def loss_derivative(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Elementwise d loss / d pred (closed form, for hand-written backward passes)."""
        if self.target == "direction":
            from strategies.nn.losses import bce_derivative

            return bce_derivative(pred, target)
        return self.loss.derivative(pred - target)

    def step(self, grad: torch.Tensor) -> None:
        """Apply the gradient mode per seed, then one optimizer step (``grad`` is modified)."""
        from strategies.nn.gradients import apply_gradient_mode

        apply_gradient_mode(grad, self.grad_mode, self.grad_norm)
        self.optimizer.step(grad)

    def autograd_step(self, pred: torch.Tensor, target: torch.Tensor) -> None:
        """One optimizer step by autograd, for models whose backward pass torch writes.

        ``pred``: (seed rows, n) predictions computed from the optimizer's parameter
        tensor (a leaf with ``requires_grad``); ``target``: (seed rows, n) or (n,)
        targets in the same units. The loss is the mean over ``n`` per seed row,
        summed over rows, so each row's gradient is that of its own mean loss.
        """
        params = self.optimizer.params
        loss = self.loss_value(pred, target).mean(dim=1).sum()
        params.grad = None
        loss.backward()
        self.step(params.grad)
