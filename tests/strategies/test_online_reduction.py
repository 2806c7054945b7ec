"""Headline-like features through the online LSTMs' causal reduction (PCA fitted once, on the past)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from engine.pipeline.drive import Resume, generate_targets
from engine.workflows.audit import audit
from strategies.lstm import LstmStateful, LstmStateless
from tests.conftest import random_walk_market

SMALL = {"hidden": 8, "warmup_years": 0.5, "pca": 3, "pca_years": 0.4}


@pytest.fixture(scope="module")
def market():
    base = random_walk_market(n=360, tickers=("IDX",), seed=21)
    rng = np.random.default_rng(3)
    embedding = rng.normal(size=(base.n_days, 40)) @ rng.normal(size=(40, 40)) * 0.05
    count = rng.integers(20, 30, size=(base.n_days, 1)).astype(float)
    return replace(base, features={"headlines": embedding, "headline_count": count})


def test_the_model_sees_d_reduced_columns_fitted_on_the_first_years_only(market):
    strategy = LstmStateful(SMALL)
    generate_targets(strategy, market, (0,))
    assert strategy.model.params is not None and strategy.n_features == 3
    reduction = strategy.reduction
    assert reduction is not None and reduction.fitted
    fit_rows = int((market.dates <= reduction.fit_day).sum())  # the fit saw rows up to about here
    later = market.features["headlines"].copy()
    later[fit_rows + 1 :] = 99.0  # rewrite everything after the fit: the components must not change
    changed = replace(market, features={**market.features, "headlines": later})
    other = LstmStateful(SMALL)
    generate_targets(other, changed, (0,))
    assert np.array_equal(other.reduction.pca.components, reduction.pca.components)
    assert np.array_equal(other.reduction.scale, reduction.scale)


@pytest.mark.parametrize("cls,extra", [(LstmStateful, {}), (LstmStateless, {"window": 4})])
def test_reduced_features_pass_the_audit_and_change_the_decisions(market, cls, extra):
    params = {**SMALL, **extra, "signal": "confidence"}
    report = audit(lambda: cls(params), market, (0,), cuts=2)
    assert report.passed, report.problems
    raw = generate_targets(cls({**params, "pca": 0}), market, (0,)).targets
    reduced = generate_targets(cls(params), market, (0,)).targets
    assert not np.array_equal(raw, reduced, equal_nan=True)


def test_resuming_from_a_checkpoint_equals_one_go(market):
    short = market.head(200)
    first = generate_targets(LstmStateful(SMALL), short, (0, 1))
    resumed = generate_targets(
        LstmStateful(SMALL), market, (0, 1), resume=Resume(first.state, 200, first.targets)
    ).targets
    one_go = generate_targets(LstmStateful(SMALL), market, (0, 1)).targets
    assert np.array_equal(resumed, one_go, equal_nan=True)
