"""``transformer``: a causal transformer over the last W days, trained walk-forward.

At each retrain day (default: the last close of each year, once ``min_train_years``
of data exist) the model is fitted on the past: windows of W daily feature rows
(the day's delta and any extra feature columns, per ticker) ending at day e,
paired with the delta of day e+1, for every e whose target is known by the retrain
close. The training window expands from the first day (default) or rolls over the
last ``train_years``. Normalization (mean and std per column) is fitted on the
training window only and frozen until the next retrain (so is the optional PCA
of the extra feature columns, ``pca=d``); targets are deltas over
their training std (not centered). The first fit draws up to ``max_samples``
windows per seed (each seed with its own generator) for ``epochs`` passes of
mini-batches; later fits continue from the previous fit's weights (``warm_start``)
on ``update_samples`` windows (one mini-batch by default), so a yearly retrain
costs about an eighth of the first. The output layer starts at zero
(``head_init``): every seed first predicts a delta of 0, and training moves it
only as far as the data support (a random head traded on noise until training
had shrunk it). Measured on the bundled S&P 500 index (``benchmarks/
transformer_bench.py``), these defaults are several times faster than the old ones
(random head, 512 windows at every retrain, attention written out) at a lower
mean out-of-sample loss over seeds.

Every day until the next retrain, the window ending at today's close gives each
seed's predicted delta for (t, t+1], mapped to weights like the LSTM's (signals,
threshold, ensemble). With ``finetune`` the model also takes one step per day on
the newest (window -> realized delta) pair.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from strategies.history import History
from strategies.learning import (
    CausalPCA,
    LearningParams,
    ReducedFeatureParams,
    SignalParams,
    Trainer,
    feature_names,
    feature_rows,
    weights_for,
)
from strategies.nn.device import on_cpu, on_device, to_device
from strategies.nn.seeding import seed_generator
from strategies.nn.transformer import BatchedTransformer, TransformerShape
from strategies.seeded import SeededWalkForwardStrategy

TRADING_DAYS_PER_YEAR = 252


class TransformerParams(LearningParams, SignalParams, ReducedFeatureParams):
    window: int = Field(60, ge=2, le=500, description="days of feature rows the model sees")
    d_model: int = Field(32, ge=8, le=256, description="model width")
    layers: int = Field(2, ge=1, le=8, description="encoder layers")
    heads: int = Field(4, ge=1, le=16, description="attention heads (divide d_model)")
    ffn: int = Field(64, ge=8, le=1024, description="feed-forward width")
    positions: Literal["sinusoidal", "learned"] = Field("sinusoidal", description="position encoding")
    train_window: Literal["expanding", "rolling"] = Field("expanding", description="training window")
    train_years: float = Field(10.0, gt=0, description="length of a rolling training window [years]")
    min_train_years: float = Field(5.0, ge=0, description="history needed before the first fit [years]")
    epochs: int = Field(1, ge=1, le=100, description="passes over the sampled windows per retrain")
    max_samples: int = Field(512, ge=16, description="training windows drawn per seed at the first fit")
    update_samples: int = Field(
        64, ge=1, description="training windows drawn per seed at each later (warm-started) fit"
    )
    batch: int = Field(64, ge=1, le=4096, description="mini-batch size")
    warm_start: bool = Field(True, description="continue from the previous fit instead of re-initializing")
    finetune: bool = Field(False, description="one extra step per day on the newest realized delta")
    head_init: Literal["zero", "uniform"] = Field(
        "zero",
        description="output layer at initialization: zero (first predictions 0) or uniform like nn.Linear",
    )
    attention: Literal["fused", "explicit"] = Field(
        "fused", description="attention kernel: torch's fused one, or the softmax written out (reference)"
    )


class Transformer(SeededWalkForwardStrategy):
    name = "transformer"
    summary = "causal transformer over the last 60 days, walk-forward yearly retrain"
    Params = TransformerParams
    params: TransformerParams
    # deterministic algorithms on an accelerator only, as before this class used the seeded base:
    # on the CPU one torch thread is deterministic already (the mode would NaN-fill new tensors)
    deterministic_on_cpu = False

    # --- set-up -----------------------------------------------------------------------
    def setup(self, history: History) -> None:
        p = self.params
        self.features = feature_names(p.features, history)
        self.n_tickers = len(history.tickers)
        n_extra = feature_rows(history, self.features, np.array([0])).shape[1]
        self.pca = CausalPCA(n_extra, p.pca) if p.pca and n_extra > p.pca else None
        self.n_inputs = 1 + (p.pca if self.pca else n_extra)
        self.shape = TransformerShape(
            self.n_inputs,
            p.window,
            p.d_model,
            p.layers,
            p.heads,
            p.ffn,
            p.positions,
            p.attention,
            zero_head=p.head_init == "zero",
        )
        self._new_model()
        self.samplers = [
            torch.Generator().manual_seed(seed_generator(s).initial_seed() + 17) for s in self.seeds
        ]
        first = history.dates[0].astype(dt.date)
        # first fit on the last close of the year in which min_train_years of data are complete
        # (within a week: a year of data starting Jan 2 is complete on Dec 31)
        self.fit_from = np.datetime64(first + dt.timedelta(days=round(p.min_train_years * 365.25) - 7), "D")
        self.mean = np.zeros(self.n_inputs)
        self.std = np.ones(self.n_inputs)
        self.delta_std = np.ones(self.n_tickers)
        self.fitted = False

    def _new_model(self) -> None:
        self.model = BatchedTransformer(self.seeds, self.shape, self.device)
        self.trainer = Trainer(self.params, self.model.params)

    # --- data -------------------------------------------------------------------------
    def _raw(self, history: History, lo: int, hi: int) -> np.ndarray:
        """Feature rows lo..hi-1 per ticker: (rows, tickers, 1 + n_features), unscaled (NaN kept)."""
        deltas = history.deltas[lo:hi][:, :, None]
        if not self.features:  # no extra columns: what the concatenation below gives, without it
            return deltas.astype(np.float64)
        extra = feature_rows(history, self.features, slice(lo, hi))
        if self.pca is not None:
            extra = self.pca.transform(extra)
        extra = np.broadcast_to(extra[:, None, :], (hi - lo, self.n_tickers, extra.shape[1]))
        return np.concatenate([deltas, extra], axis=2)

    def _scaled(self, raw: np.ndarray) -> torch.Tensor:
        # NaN -> 0 after the cast to float32: as np.nan_to_num before it, whose +-inf -> +-1.8e308
        # become +-inf in float32 again (putmask: no Python-level work per call, predictions are daily)
        scaled = ((raw - self.mean) / self.std).astype(np.float32)
        np.putmask(scaled, np.isnan(scaled), np.float32(0.0))
        return to_device(torch.from_numpy(scaled), self.device)

    # --- walk-forward -----------------------------------------------------------------
    def is_retrain_day(self, history: History) -> bool:
        return (
            bool(history.year_end[-1])
            and history.today >= self.fit_from
            and history.n_days > self.params.window + 1
        )

    def fit(self, history: History, seeds: tuple[int, ...]) -> None:
        p = self.params
        t = history.n_days - 1
        lo = (
            0
            if p.train_window == "expanding"
            else max(0, t + 1 - round(p.train_years * TRADING_DAYS_PER_YEAR))
        )
        if self.pca is not None:  # components from the training window only
            self.pca.fit(feature_rows(history, self.features, slice(lo, t + 1)))
        raw = self._raw(history, lo, t + 1)  # rows lo..t
        # the split: inputs from rows lo..t-1, newest target the delta of day t (close t-1 -> t)
        self.train_span = (history.dates[lo], history.dates[t])
        flat = raw.reshape(-1, self.n_inputs)
        self.mean = np.nanmean(flat, axis=0)
        self.std = np.maximum(np.nanstd(flat, axis=0, ddof=1), 1e-6)
        self.mean[0] = 0.0  # deltas: scale only, keep the sign
        self.std[0] = max(float(np.nanstd(raw[:, :, 0], ddof=1)), 1e-6)
        self.delta_std = np.full(self.n_tickers, self.std[0])
        z = self._scaled(raw)  # (rows, tickers, F)
        ends = np.arange(p.window - 1, len(raw) - 1)  # window end e, target = delta of row e + 1
        target_raw = raw[ends + 1, :, 0]  # (n_ends, tickers)
        e_idx, b_idx = np.nonzero(~np.isnan(target_raw))
        if e_idx.size == 0:
            return
        targets = torch.from_numpy(
            self.trainer.to_target(target_raw[e_idx, b_idx], self.std[0]).astype(np.float32)
        )
        ends_t = torch.from_numpy(ends[e_idx])
        tickers_t = torch.from_numpy(b_idx)
        warm = p.warm_start and self.fitted
        if self.fitted and not warm:
            self._new_model()
        offsets = torch.arange(-p.window + 1, 1)
        dev = self.device
        n = min(p.update_samples if warm else p.max_samples, len(targets))
        for _ in range(p.epochs):
            order = torch.stack([torch.randperm(len(targets), generator=g)[:n] for g in self.samplers])
            for start in range(0, n, p.batch):
                pick = order[:, start : start + p.batch]  # (S, N)
                rows = ends_t[pick][..., None] + offsets  # (S, N, W)
                # indices drawn on the CPU (the same on every device), the gather where z is
                x = z[to_device(rows, dev), to_device(tickers_t[pick][..., None], dev)]  # (S, N, W, F)
                self._step(x, to_device(targets[pick], dev))
        self.fitted = True

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """One optimizer step on (seeds, N, W, F) windows and (seeds, N) scaled targets."""
        self.trainer.autograd_step(self.model.forward(x), y)

    def learn(self, history: History) -> None:
        if not (self.params.finetune and self.fitted) or history.n_days < self.params.window + 1:
            return
        t = history.n_days - 1
        raw = self._raw(history, t - self.params.window, t + 1)
        target = raw[-1, :, 0]
        known = ~np.isnan(target)
        if not known.any():
            return
        x = self._scaled(raw[:-1])[:, known].permute(1, 0, 2)  # (tickers, W, F)
        y = torch.from_numpy(self.trainer.to_target(target[known], self.std[0]).astype(np.float32))
        self._step(x, to_device(y, self.device).expand(len(self.seeds), -1))

    def predict(self, history: History) -> np.ndarray:
        """Each seed's predicted delta of every ticker over (today, next close]: (seeds, tickers)."""
        t = history.n_days - 1
        window = self.params.window
        raw = self._raw(history, max(0, t + 1 - window), t + 1)
        with torch.inference_mode():
            x = self._scaled(raw).permute(1, 0, 2)  # (tickers, W, F)
            y = self.model.forward(x).cpu().numpy().astype(np.float64)  # in training std units
        return y * self.delta_std

    def decide(self, history: History) -> np.ndarray:
        return weights_for(self.predict(history), self.delta_std, self.params)

    # --- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            # checkpoints hold CPU tensors: a run continues (backtest update) on any device
            "params": self.model.params.detach().cpu().clone(),
            "optimizer": on_cpu(self.trainer.optimizer.state_dict()),
            "samplers": [g.get_state() for g in self.samplers],
            "mean": torch.from_numpy(self.mean.copy()),
            "std": torch.from_numpy(self.std.copy()),
            "delta_std": torch.from_numpy(self.delta_std.copy()),
            "fitted": self.fitted,
            **({"pca": self.pca.state_dict()} if self.pca is not None else {}),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.model.params.copy_(state["params"])
        self.trainer.optimizer.load_state_dict(on_device(state["optimizer"], self.device))
        for g, s in zip(self.samplers, state["samplers"], strict=True):
            g.set_state(s)
        self.mean, self.std = state["mean"].numpy().copy(), state["std"].numpy().copy()
        self.delta_std = state["delta_std"].numpy().copy()
        self.fitted = bool(state["fitted"])
        if self.pca is not None:
            self.pca.load_state_dict(state["pca"])
