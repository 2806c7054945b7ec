"""Statistical evidence: worked examples, false-positive rate of pure noise, bootstrap coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engine.pipeline.evidence import (
    block_bootstrap_excess,
    deflated_sharpe,
    expected_max_sharpe,
    fold_ranks,
    probabilistic_sharpe,
    sharpe_moments,
    strategy_evidence,
    sweep_deflation,
)
from tests.conftest import business_days


def test_deflated_sharpe_worked_example_of_bailey_and_lopez_de_prado_2014():
    # N = 100 trials, V[SR] = 1/2 (annualized), best SR 2.5 (annualized), T = 1250 days, skew -3, kurtosis 10
    per_year = 250
    variance = 0.5 / per_year
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=1e-4)  # the paper's SR*
    sr = 2.5 / math.sqrt(per_year)
    assert deflated_sharpe(sr, 1250, -3.0, 10.0, 100, variance) == pytest.approx(0.9004, abs=1e-4)


def test_psr_reduces_to_the_normal_formula_and_one_trial_is_not_deflated():
    sr, n = 0.05, 1000
    want = stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr**2 / 2))
    assert probabilistic_sharpe(sr, n, 0.0, 3.0) == pytest.approx(want, abs=1e-12)
    assert deflated_sharpe(sr, n, 0.0, 3.0, 1, 0.1) == probabilistic_sharpe(sr, n, 0.0, 3.0)
    # fat left tails make the same Sharpe less convincing
    assert probabilistic_sharpe(sr, n, -2.0, 12.0) < probabilistic_sharpe(sr, n, 0.0, 3.0)


def test_sharpe_moments_against_numpy_and_scipy():
    r = np.random.default_rng(0).standard_t(5, size=3000) * 0.01 + 0.0005
    sr, skew, kurt = sharpe_moments(r)
    assert sr == pytest.approx(r.mean() / r.std(ddof=1))
    m = r - r.mean()
    assert skew == pytest.approx((m**3).mean() / (m**2).mean() ** 1.5)
    assert kurt == pytest.approx((m**4).mean() / (m**2).mean() ** 2)


def test_the_bootstrap_without_resampling_noise_is_the_plain_excess():
    rng = np.random.default_rng(1)
    seeds = rng.normal(0.0005, 0.01, size=(400, 2))
    bench = rng.normal(0.0003, 0.01, size=400)
    # block = n: every resample is a rotation of the whole period, whose growth is exactly the sample's
    boot = block_bootstrap_excess(seeds, bench, 252.0, block=400, resamples=50)
    growth = np.expm1(np.log1p(np.column_stack([seeds, bench])).sum(axis=0) * 252 / 400)
    np.testing.assert_allclose(boot, growth[:2].mean() - growth[2], rtol=0, atol=1e-12)


def simulate(rng: np.random.Generator, n: int, seeds: int, drift: float, bench_drift: float):
    dates = business_days("2010-01-01", n + 1)
    bench = rng.normal(bench_drift, 0.01, size=n)
    strat = rng.normal(drift, 0.01, size=(n, seeds))
    to_equity = lambda r: np.vstack([np.ones((1, r.shape[1])), np.cumprod(1 + r, axis=0)])  # noqa: E731
    return to_equity(strat), to_equity(bench[:, None]), dates


@pytest.mark.slow
def test_pure_noise_is_not_significant_more_often_than_the_nominal_rate():
    rng = np.random.default_rng(7)
    sims, ci_excludes_zero, dsr_significant, psr_significant = 200, 0, 0, 0
    for _ in range(sims):
        strat, bench, dates = simulate(rng, 500, seeds=5, drift=0.0003, bench_drift=0.0003)
        sharpes = [
            sharpe_moments(np.diff(strat[:, c]) / strat[:-1, c] - np.diff(bench[:, 0]) / bench[:-1, 0])[0]
            for c in range(5)
        ]
        ev = strategy_evidence(strat, bench, list(range(5)), dates, trials=5, trial_sharpes=np.array(sharpes))
        low, high = ev["mean_excess_ci95"]
        ci_excludes_zero += low > 0 or high < 0
        dsr_significant += ev["best_seed"]["dsr"] >= 0.95
        psr_significant += ev["best_seed"]["psr"] >= 0.95
    # nominal 5%: binomial(200, 0.05) stays below 10.5% with probability > 0.99
    assert ci_excludes_zero / sims <= 0.105
    assert dsr_significant / sims <= 0.105
    assert psr_significant > dsr_significant  # the best of five looks better undeflated


@pytest.mark.slow
def test_the_bootstrap_interval_covers_the_true_excess_at_about_its_nominal_rate():
    rng = np.random.default_rng(11)
    n, per_year, drift, bench_drift = 750, 252.0, 0.0008, 0.0002
    big = np.random.default_rng(0).normal(size=2_000_000) * 0.01
    true = np.expm1(np.log1p(big + drift).mean() * per_year) - np.expm1(
        np.log1p(big + bench_drift).mean() * per_year
    )
    covered, sims = 0, 200
    for _ in range(sims):
        seeds = rng.normal(drift, 0.01, size=(n, 1))
        bench = rng.normal(bench_drift, 0.01, size=n)
        boot = block_bootstrap_excess(seeds, bench, per_year, resamples=1000)
        low, high = np.percentile(boot, [2.5, 97.5])
        covered += low <= true <= high
    assert 0.88 <= covered / sims <= 0.99


def test_rank_correlation_of_persistent_and_of_random_seeds():
    n = 400
    skill = np.array([0.0000, 0.0002, 0.0004, 0.0006, 0.0008])
    rng = np.random.default_rng(3)
    persistent = skill + rng.normal(0, 0.0005, size=(n, 5))
    ranks = fold_ranks(persistent, 252.0)
    assert ranks["rank_correlation"] == pytest.approx(1.0)
    assert ranks["best_first_fold_rank_later"] == 1
    noise = rng.normal(0.0003, 0.01, size=(n, 5))
    assert abs(fold_ranks(noise, 252.0)["rank_correlation"]) <= 1.0


def test_runs_carry_the_evidence_and_the_report_prints_it(market):
    from rich.console import Console

    from engine.cli.report import render_run
    from engine.config.run_config import RunConfig, StrategySpec
    from engine.pipeline.prepare import prepare
    from engine.pipeline.runner import execute
    from engine.store.result_schema import parse_result

    config = RunConfig(
        strategies=(StrategySpec(name="lstm-stateful", params={"hidden": 8, "warmup_years": 0.5}),),
        seeds=(0, 1, 2),
    )
    payload = execute(prepare(config, market=market)).to_dict()
    ev = payload["evidence"]["lstm-stateful"]
    assert len(ev["excess_cagr_by_seed"]) == 3 and ev["best_seed"]["trials"] == 3
    assert ev["best_seed"]["seed"] in (0, 1, 2)
    # the per-seed excess is the table's CAGR minus buy-and-hold's, up to the annualization convention
    table = [s["cagr"] - payload["benchmark"]["cagr"] for s in payload["strategies"][0]["seeds"]]
    np.testing.assert_allclose(ev["excess_cagr_by_seed"], table, atol=5e-3)
    console = Console(record=True, width=200)
    render_run(parse_result(payload), console, yearly=False, seeds=False)
    text = console.export_text()
    assert "Evidence vs buy-and-hold" in text and "DSR" in text and "95% CI" in text


def test_a_sweep_deflates_the_best_seed_by_cagr_over_every_seed_of_every_cell():
    rng = np.random.default_rng(11)
    n = 400
    market = rng.normal(0.0003, 0.01, n)
    bench = np.cumprod(1 + market)
    # seed 0: a small steady excess (the higher Sharpe); seed 1: noisy, but the higher final value (CAGR)
    steady = np.cumprod(1 + market + rng.normal(0.0004, 0.001, n))
    wild = np.cumprod(1 + market + rng.normal(0.0, 0.03, n))
    wild *= steady[-1] * 1.5 / wild[-1]
    cells = [(np.column_stack([steady, wild]), bench), (np.column_stack([wild, steady, steady]), bench)]
    got = sweep_deflation(cells)
    assert [g["column"] for g in got] == [1, 0]  # the highest CAGR, not the highest Sharpe
    excess = [np.diff(c, axis=0) / c[:-1] - (np.diff(bench) / bench[:-1])[:, None] for c, _ in cells]
    sharpes = [e[:, j].mean() / e[:, j].std(ddof=1) for e in excess for j in range(e.shape[1])]
    assert sharpes[0] > sharpes[1]  # so Sharpe would have picked the other seed
    variance = float(np.var(sharpes, ddof=1))
    best = excess[0][:, 1]
    sr = best.mean() / best.std(ddof=1)
    assert got[0]["trials"] == 5
    assert got[0]["excess_sharpe_annual"] == pytest.approx(sr * math.sqrt(252), rel=1e-12)
    sr_star = expected_max_sharpe(5, variance)
    skew, kurt = stats.skew(best), stats.kurtosis(best, fisher=False)
    z = (sr - sr_star) * math.sqrt(len(best) - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert got[0]["dsr"] == pytest.approx(stats.norm.cdf(z), abs=1e-9)
