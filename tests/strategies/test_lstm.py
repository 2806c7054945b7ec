"""The online LSTMs: protocol, determinism, seeds alone vs together, checkpoints and updates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.drive import generate_targets
from engine.pipeline.prepare import prepare
from engine.store.run_store import RunStore
from engine.workflows.audit import audit
from engine.workflows.record import run_and_store
from engine.workflows.update import update_run
from strategies.lstm import LstmStateful, LstmStateless
from tests.conftest import random_walk_market, write_yahoo_csv

SMALL = {"hidden": 8, "warmup_years": 0.5}
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=360, tickers=("IDX",), seed=21)


@pytest.mark.parametrize("cls,extra", [(LstmStateful, {"bptt": 3}), (LstmStateless, {"window": 5})])
def test_same_seed_same_bits_and_alone_equals_among_others(market, cls, extra):
    params = {**SMALL, **extra, "signal": "confidence", "loss": "linex", "optimizer": "rmsprop"}
    first = generate_targets(cls(params), market, SEEDS).targets
    again = generate_targets(cls(params), market, SEEDS).targets
    assert np.array_equal(first, again, equal_nan=True)
    alone = generate_targets(cls(params), market, (2,)).targets
    assert np.array_equal(first[:, 2], alone[:, 0], equal_nan=True)


def test_warm_up_trains_without_trading_and_ensemble_member(market):
    result = generate_targets(LstmStateful(SMALL), market, SEEDS)
    assert result.members == (0, 1, 2, "ensemble")
    decided = ~np.isnan(result.targets).all(axis=(1, 2))
    first = np.flatnonzero(decided)[0]
    warmup_days = (market.dates[first] - market.dates[0]).astype(int)
    assert 182 <= warmup_days <= 190  # half a year
    assert decided[first:].all()
    w = result.targets[first:]
    assert set(np.unique(w)) <= {0.0, 1.0}  # long/flat on one ticker


def test_extra_feature_columns_are_used(market):
    rng = np.random.default_rng(0)
    with_news = replace(market, features={"news": rng.normal(size=(market.n_days, 4))})
    plain = generate_targets(LstmStateful({**SMALL, "signal": "confidence"}), market, (0,)).targets
    fed = generate_targets(LstmStateful({**SMALL, "signal": "confidence"}), with_news, (0,)).targets
    ignored = generate_targets(
        LstmStateful({**SMALL, "signal": "confidence", "features": "none"}), with_news, (0,)
    ).targets
    assert not np.array_equal(plain, fed, equal_nan=True)
    assert np.array_equal(plain, ignored, equal_nan=True)


def test_stateful_and_stateless_pass_the_audit(market):
    for cls in (LstmStateful, LstmStateless):
        report = audit(
            lambda cls=cls: cls({**SMALL, "window": 4} if cls is LstmStateless else SMALL),
            market,
            (0, 1),
            cuts=2,
        )
        assert report.passed, report.problems


@pytest.mark.parametrize("name,extra", [("lstm-stateful", {"bptt": 2}), ("lstm-stateless", {"window": 4})])
def test_update_equals_one_go_bit_for_bit(tmp_path, market, name, extra):
    store = RunStore(tmp_path / "runs")
    config = RunConfig(
        strategies=(
            StrategySpec(name=name, params={**SMALL, **extra}),
            StrategySpec(name="ma-trend", params={"window": 20}),
        ),
        seeds=SEEDS,
    )
    (tmp_path / "short").mkdir()
    short_csv = write_yahoo_csv(tmp_path / "short" / "IDX.csv", market.head(250))
    short = run_and_store(prepare(config.model_copy(update={"data": f"csv:{short_csv}"})), store)
    # the "new data": the same file, longer (a missed stretch of days)
    long_csv = write_yahoo_csv(tmp_path / "IDX.csv", market)
    short_payload = store.load_metrics(short.run_id)[1]
    assert short_payload["period"]["end"] == str(market.dates[249])
    result, message = update_run(store, short.run_id, data=f"csv:{long_csv}")
    assert result is not None and "110 new day(s)" in message
    one_go = run_and_store(prepare(config.model_copy(update={"data": f"csv:{long_csv}"})), store)
    got, want = result.to_dict(), one_go.to_dict()
    for payload in (got, want):
        payload.pop("run_id")
        payload.pop("config")
    assert got == want
    assert np.array_equal(result.strategies[0].targets, one_go.strategies[0].targets, equal_nan=True)
    assert store.find(result.run_id).manifest["parent"] == short.run_id
    again, message = update_run(store, result.run_id, data=f"csv:{long_csv}")
    assert again is None and "up to date" in message


def test_update_refuses_changed_history_and_keeps_the_old_run(tmp_path, market):
    store = RunStore(tmp_path / "runs")
    config = RunConfig(strategies=(StrategySpec(name="lstm-stateful", params=SMALL),), seeds=(0,))
    (tmp_path / "short").mkdir()
    short_csv = write_yahoo_csv(tmp_path / "short" / "IDX.csv", market.head(250))
    short = run_and_store(prepare(config.model_copy(update={"data": f"csv:{short_csv}"})), store)
    before = {p.name: p.read_bytes() for p in (store.find(short.run_id).path / "checkpoint").iterdir()}
    revised = market.close.copy()
    revised[100] *= 1.01
    csv = write_yahoo_csv(tmp_path / "IDX.csv", market.with_prices(revised))
    from feeds.errors import InputError

    with pytest.raises(InputError, match="differ from those the run was computed on"):
        update_run(store, short.run_id, data=f"csv:{csv}")
    after = {p.name: p.read_bytes() for p in (store.find(short.run_id).path / "checkpoint").iterdir()}
    assert before == after


@pytest.mark.slow
def test_fresh_processes_give_identical_lstm_results(tmp_path, market):
    csv = write_yahoo_csv(tmp_path / "IDX.csv", market)
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(tmp_path / "runs")}
    cmd = [
        sys.executable,
        "-m",
        "engine.cli",
        "run",
        "--data",
        f"csv:{csv}",
        "--strategy",
        "lstm-stateful",
        "--strategy",
        "lstm-stateless",
        "--seeds",
        "3",
        "--param",
        "hidden=8",
        "--param",
        "warmup_years=0.5",
        "--param",
        "lstm-stateless.window=4",
        "--json",
    ]
    outs = [
        json.loads(
            subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=600).stdout
        )
        for _ in range(2)
    ]
    for payload in outs:
        payload.pop("run_id")
    assert outs[0] == outs[1]
    stateful = outs[0]["strategies"][0]
    assert [s["seed"] for s in stateful["seeds"]] == [0, 1, 2] and "ensemble" in stateful


def first_gradient_norms(strategy, market, seeds) -> list[float]:
    """Largest raw gradient norm over the seeds of each learning step, in order."""
    norms: list[float] = []
    learn = strategy.learn

    def recording(history):
        before = getattr(strategy, "learn_steps", 0)
        learn(history)
        if strategy.learn_steps > before:
            norms.append(float(np.max(strategy.grad_norms)))

    strategy.learn = recording
    generate_targets(strategy, market, seeds)
    return norms


@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("cls,extra", [(LstmStateful, {"bptt": 2}), (LstmStateless, {"window": 4})])
def test_first_gradient_norms_are_order_one_for_every_loss_and_gradient_mode(market, cls, extra, backend):
    """Targets scaled by a std that is not defined yet (the floor, or a std of 2 values)
    gave first gradient norms up to 1e10 (issue 16); no step may use such a scale."""
    from strategies.learning import LossName
    from strategies.nn.gradients import GRADIENT_MODES

    for loss in LossName.__args__:  # type: ignore[attr-defined]
        for mode in GRADIENT_MODES:
            params = {**SMALL, **extra, "loss": loss, "grad_mode": mode, "norm_days": 20, "backend": backend}
            norms = first_gradient_norms(cls(params), market.head(40), SEEDS)
            # day 0 has no delta, so the first target is day 21's: 40 - 21 steps
            assert len(norms) == 40 - 21, (loss, mode)
            assert np.isfinite(norms).all() and max(norms) < 20, (loss, mode, norms[:5])
