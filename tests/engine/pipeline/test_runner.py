"""The pipeline: common trading period, benchmark through the same path, seeds and aggregates."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.pipeline.runner import execute
from feeds.sources import DataSpec, load_market
from tests.conftest import GSPC_CSV, random_walk_market
from tests.engine import reference


def run(market, *names, **kw):
    specs = tuple(StrategySpec(name=n, params=p) for n, p in names)
    return execute(prepare(RunConfig(strategies=specs, **kw), market=market)).to_dict()


def test_benchmark_and_buy_and_hold_strategy_agree_over_the_common_period():
    market = random_walk_market(n=500, seed=8)
    payload = run(market, ("buy-and-hold", {}), ("ma-trend", {"window": 100}))
    assert payload["period"]["start"] == str(market.dates[99])  # ma-trend's first decision
    bh, bench = payload["strategies"][0], payload["benchmark"]
    for key in ("cagr", "sharpe", "max_drawdown", "yearly", "trades"):
        assert bh[key] == bench[key]
    close = market.close[99:, 0]
    equity, _, _ = reference.simulate(close[:, None].tolist(), [[1.0]] + [None] * (len(close) - 1), 5e-4)
    assert abs(bench["cagr"] - reference.cagr(market.dates[99:], equity)) < 1e-9


def test_seeds_every_member_and_aggregate():
    market = random_walk_market(n=300, tickers=("A", "B"), seed=1)
    payload = run(market, ("tests/fixtures/leaky.py:HonestOnline", {}), seeds=(0, 1, 2, 3))
    entry = payload["strategies"][0]
    cagrs = [s["cagr"] for s in entry["seeds"]]
    agg = entry["aggregate"]
    assert [s["seed"] for s in entry["seeds"]] == [0, 1, 2, 3]
    assert agg["cagr_mean"] == pytest.approx(np.mean(cagrs), abs=1e-15)
    assert agg["cagr_std"] == pytest.approx(np.std(cagrs, ddof=1), abs=1e-15)
    assert agg["cagr_best"] == max(cagrs) and agg["cagr_worst"] == min(cagrs)
    assert agg["share_beating_benchmark"] == np.mean([c > payload["benchmark"]["cagr"] for c in cagrs])
    fees = [s["fees_paid"] for s in entry["seeds"]]
    assert agg["fees_paid_mean"] == pytest.approx(np.mean(fees), abs=1e-15)
    assert entry["fees_paid"] == pytest.approx(np.mean(fees), abs=1e-15)  # the headline: mean over seeds
    # one criterion of "best seed" (the highest CAGR) in the aggregate and in the evidence
    best = payload["evidence"][entry["name"]]["best_seed"]
    assert best["seed"] == entry["seeds"][int(np.argmax(cagrs))]["seed"]
    assert best["cagr"] == pytest.approx(agg["cagr_best"], abs=1e-12)


def test_annual_run_on_the_sample_compares_with_universe_and_index():
    sample = load_market(DataSpec.parse("sample"))
    payload = run(sample, ("momentum-annual", {}), start=None)
    names = [b["name"] for b in payload["benchmarks"]]
    assert names == ["buy-and-hold", "buy-and-hold ^GSPC"]
    assert payload["period"]["start"] == "1990-12-31"
    assert len(payload["benchmark"]["tickers"]) == 20
    assert "1990" not in payload["strategies"][0]["yearly"]  # started on the year's last close


def test_costs_lower_the_yield():
    market = random_walk_market(n=400, seed=2)
    free = run(market, ("ma-trend", {"window": 20}), cost_bps=0.0)
    costly = run(market, ("ma-trend", {"window": 20}), cost_bps=50.0)
    assert costly["strategies"][0]["cagr"] < free["strategies"][0]["cagr"]
    assert costly["strategies"][0]["trades"] == free["strategies"][0]["trades"]


@pytest.mark.skipif(not GSPC_CSV.is_file(), reason="../shared/data is not present")
def test_real_gspc_buy_and_hold_cagr_is_the_price_ratio():
    market = load_market(DataSpec.parse(f"csv:{GSPC_CSV}"))
    payload = run(market, ("buy-and-hold", {}), cost_bps=0.0)
    days = int((market.dates[-1] - market.dates[0]).astype(int))
    expected = (market.close[-1, 0] / market.close[0, 0]) ** (365.25 / days) - 1
    assert abs(payload["strategies"][0]["cagr"] - expected) < 1e-12


def test_fees_paid_are_the_simulated_fees_over_the_start_by_hand():
    market = random_walk_market(n=900, seed=5)
    done = execute(
        prepare(RunConfig(strategies=(StrategySpec(name="ma-trend", params={"window": 20}),)), market=market)
    )
    payload = done.to_dict()
    start = int(np.flatnonzero(done.data_dates == done.dates[0])[0])
    targets = done.strategies[0].targets[:, 0, :]  # (data days, tickers), NaN rows = hold
    decided = [t for t in range(start + 1) if not np.isnan(targets[t]).all()]
    rows = [targets[decided[-1]].tolist()] + [
        None if np.isnan(targets[t]).all() else targets[t].tolist() for t in range(start + 1, len(targets))
    ]
    daily: list[float] = []
    equity, _, total = reference.simulate(market.close[start:].tolist(), rows, 5e-4, daily_fees=daily)
    entry = payload["strategies"][0]
    assert total > 0 and len(daily) == len(done.dates)
    assert entry["fees_paid"] == pytest.approx(sum(daily) / 1.0, abs=1e-12)  # start value 1.0
    assert entry["aggregate"]["fees_paid_mean"] == entry["fees_paid"]
    # each year's fees over the value at the previous year's last close (1.0 for the first year)
    by_year: dict[str, float] = {}
    previous, paid = 1.0, 0.0
    years = [str(d)[:4] for d in done.dates]
    for t, year in enumerate(years):
        paid += daily[t]
        if t == len(years) - 1 or years[t + 1] != year:
            by_year[year], previous, paid = paid / previous, equity[t], 0.0
    assert entry["yearly_fees"] == pytest.approx(by_year, abs=1e-12)
