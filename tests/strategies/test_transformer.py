"""The walk-forward ``transformer``: splits, determinism, seeds, audit, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.drive import generate_targets
from engine.pipeline.prepare import prepare
from engine.store.run_store import RunStore
from engine.workflows.audit import audit
from engine.workflows.record import run_and_store
from engine.workflows.update import update_run
from strategies.history import History
from strategies.transformer import Transformer
from tests.conftest import random_walk_market, write_yahoo_csv

# tiny: 20-day windows, one layer, yearly retrain after one year of data
SMALL = {
    "window": 20,
    "d_model": 16,
    "layers": 1,
    "heads": 2,
    "ffn": 16,
    "min_train_years": 1.0,
    "max_samples": 64,
    "batch": 32,
}
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=800, tickers=("IDX",), seed=5)


class RecordingTransformer(Transformer):
    """Records, per fit, the day of its newest training target, and every day decided."""

    fits: list[tuple[np.datetime64, np.datetime64]]

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        super().begin(history, seeds)
        self.fits = []
        self.decided: list[np.datetime64] = []

    def fit(self, history: History, seeds: tuple[int, ...]) -> None:
        super().fit(history, seeds)
        self.fits.append((history.today, self.train_span[1]))

    def decide(self, history: History) -> np.ndarray:
        self.decided.append(history.today)
        return super().decide(history)


def test_walk_forward_splits_never_overlap_the_predicted_period(market):
    strategy = RecordingTransformer(SMALL)
    result = generate_targets(strategy, market, (0,))
    assert len(strategy.fits) >= 2
    fit_days = [day for day, _ in strategy.fits]
    assert all(str(d)[5:] >= "12-24" for d in fit_days)  # the last close of a year
    for i, (day, last_target) in enumerate(strategy.fits):
        until = fit_days[i + 1] if i + 1 < len(fit_days) else market.dates[-1] + 1
        predicted = [d for d in strategy.decided if day <= d < until]
        # the model fitted at `day` predicts (d, d+1] for d >= day: all after its newest target
        assert last_target <= day
        assert predicted and min(predicted) >= last_target
    first = np.flatnonzero(~np.isnan(result.targets).all(axis=(1, 2)))[0]
    assert market.dates[first] == fit_days[0]  # nothing is decided before the first fit


def test_rolling_window_and_future_independence_of_a_fit(market):
    """Refitting at a year end on data with a different future gives the same model."""
    from engine.workflows.audit import replace_future

    rolling = {**SMALL, "train_window": "rolling", "train_years": 1.0}
    cut = int(np.flatnonzero(market.year_end)[1])
    base = generate_targets(Transformer(rolling), market, SEEDS).targets
    other = generate_targets(Transformer(rolling), replace_future(market, cut, seed=20240611), SEEDS).targets
    assert np.array_equal(base[: cut + 1], other[: cut + 1], equal_nan=True)
    assert not np.array_equal(base, other, equal_nan=True)


def test_same_bits_alone_or_among_seeds_and_finetune(market):
    params = {**SMALL, "finetune": True, "signal": "confidence"}
    first = generate_targets(Transformer(params), market, SEEDS).targets
    again = generate_targets(Transformer(params), market, SEEDS).targets
    assert np.array_equal(first, again, equal_nan=True)
    alone = generate_targets(Transformer(params), market, (1,)).targets
    assert np.array_equal(first[:, 1], alone[:, 0], equal_nan=True)
    plain = generate_targets(Transformer({**SMALL, "signal": "confidence"}), market, SEEDS).targets
    assert not np.array_equal(first, plain, equal_nan=True)


def test_transformer_passes_the_audit(market):
    report = audit(lambda: Transformer({**SMALL, "finetune": True}), market, (0, 1), cuts=2)
    assert report.passed, report.problems


def test_update_equals_one_go_bit_for_bit(tmp_path, market):
    store = RunStore(tmp_path / "runs")
    config = RunConfig(strategies=(StrategySpec(name="transformer", params=SMALL),), seeds=(0, 1))
    (tmp_path / "short").mkdir()
    short_csv = write_yahoo_csv(tmp_path / "short" / "IDX.csv", market.head(600))
    short = run_and_store(prepare(config.model_copy(update={"data": f"csv:{short_csv}"})), store)
    long_csv = write_yahoo_csv(tmp_path / "IDX.csv", market)
    result, message = update_run(store, short.run_id, data=f"csv:{long_csv}")
    assert result is not None and "200 new day(s)" in message
    one_go = run_and_store(prepare(config.model_copy(update={"data": f"csv:{long_csv}"})), store)
    got, want = result.to_dict(), one_go.to_dict()
    for payload in (got, want):
        payload.pop("run_id")
        payload.pop("config")
    assert got == want


def test_pca_of_headline_like_features_passes_the_audit(market):
    from dataclasses import replace

    rng = np.random.default_rng(0)
    fed = replace(market, features={"news": rng.normal(size=(market.n_days, 12))})
    params = {**SMALL, "pca": 3}
    strategy = Transformer(params)
    generate_targets(strategy, fed, (0,))
    assert strategy.n_inputs == 4
    report = audit(lambda: Transformer(params), fed, (0,), cuts=2)
    assert report.passed, report.problems


def test_the_first_fit_draws_max_samples_and_later_warm_fits_update_samples(market):
    steps: list[int] = []

    class Counting(Transformer):
        def fit(self, history: History, seeds: tuple[int, ...]) -> None:
            self.n_steps = 0
            super().fit(history, seeds)
            steps.append(self.n_steps)

        def _step(self, x: torch.Tensor, y: torch.Tensor) -> None:
            self.n_steps += 1
            super()._step(x, y)

    params = {**SMALL, "max_samples": 64, "update_samples": 16, "batch": 16}
    generate_targets(Counting(params), market, (0,))
    assert len(steps) >= 2 and steps[0] == 4 and set(steps[1:]) == {1}
    steps.clear()
    generate_targets(Counting({**params, "warm_start": False}), market, (0,))
    assert set(steps) == {4}  # a fresh model each year gets the first fit's budget
