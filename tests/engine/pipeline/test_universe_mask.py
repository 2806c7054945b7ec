"""Universes whose tickers start late or end early, and the picks of annual strategies."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.picks import annual_picks
from engine.pipeline.prepare import prepare
from engine.pipeline.runner import execute
from engine.pipeline.simulate import Costs, simulate
from feeds.market import Market
from tests.conftest import business_days


def test_a_ticker_that_stops_trading_is_sold_at_its_last_close():
    close = np.array([[100.0, 50.0], [110.0, 50.0], [121.0, 50.0], [np.nan, 55.0], [np.nan, 60.5]])
    orders = np.full((5, 1, 2), np.nan)
    orders[0, 0] = [0.5, 0.5]  # never told to sell AAA
    sim = simulate(close, orders, business_days("2020-01-01", 5), Costs(0.0))
    # AAA sold at 121 on row 2: 0.5 * 1.21 in cash from then on; BBB half grows 1.0 -> 1.21
    np.testing.assert_allclose(sim.equity[:, 0], [1.0, 1.05, 1.105, 0.605 + 0.55, 0.605 + 0.605], atol=1e-12)
    assert abs(sim.exposure[-1, 0] - 0.5) < 1e-12  # AAA's proceeds stay in cash


def test_the_sale_is_costed_and_a_late_starter_can_be_bought():
    close = np.array([[np.nan, 50.0], [np.nan, 50.0], [10.0, 50.0], [10.0, 50.0]])
    orders = np.full((4, 1, 2), np.nan)
    orders[0, 0] = [0.0, 1.0]
    orders[2, 0] = [0.5, 0.5]  # A starts trading on row 2
    sim = simulate(close, orders, business_days("2020-01-01", 4), Costs(10.0))
    assert sim.n_orders[0] == 3  # buy B, then sell half of B and buy A
    assert sim.exposure[2, 0] > 0.99


def long_market(n: int = 1300) -> Market:
    """Three years and a half of 4 stocks: LATE starts in year 2, GONE stops in year 3."""
    rng = np.random.default_rng(3)
    dates = business_days("2010-01-01", n)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, size=(n, 4)), axis=0))
    close[:300, 2] = np.nan  # LATE
    close[900:, 3] = np.nan  # GONE
    return Market(dates=dates, tickers=("AAA", "BBB", "LATE", "GONE"), close=close, origin="synthetic")


def test_annual_run_over_late_and_early_tickers():
    market = long_market()
    config = RunConfig(
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 2, "lookback_days": 60}),),
        cost_bps=0.0,
    )
    result = execute(prepare(config, market=market))
    picks = result.to_dict()["strategies"][0]["picks"]
    assert list(picks) == ["2011", "2012", "2013", "2014"]
    assert any("LATE" in tickers for tickers in picks.values())
    year_ends = np.flatnonzero(market.year_end)
    for year, tickers in picks.items():
        t = next(e for e in year_ends if str(market.dates[e])[:4] == str(int(year) - 1))
        for ticker in tickers:  # only tickers with a price at the decision were eligible
            assert not np.isnan(market.close[t, market.tickers.index(ticker)])
    # whatever held GONE, nothing is valued at a frozen price after its last close: equity moves only with
    # the other tickers, so the run's last equity matches a re-simulation where GONE is sold explicitly
    strat = result.strategies[0]
    assert np.isfinite(strat.equity).all()
    bench = result.to_dict()["benchmarks"]
    assert bench[0]["name"] == "buy-and-hold"
    assert not any("survivorship" in n for n in result.notes)  # GONE stops early: not a survivor list


def test_survivorship_note_when_every_ticker_survives():
    market = long_market()
    close = market.close.copy()
    close[900:, 3] = 90.0
    survivors = Market(dates=market.dates, tickers=market.tickers, close=close, origin="synthetic")
    config = RunConfig(strategies=(StrategySpec(name="momentum-annual", params={"lookback_days": 60}),))
    result = execute(prepare(config, market=survivors))
    assert any("survivorship" in n for n in result.notes)


def test_picks_and_share_beating_the_median_by_hand():
    dates = np.array(
        ["2019-12-30", "2019-12-31", "2020-06-30", "2020-12-31", "2021-06-30"], dtype="datetime64[D]"
    )
    close = np.array(
        [
            [10.0, 10.0, 10.0, 10.0],
            [10.0, 10.0, 10.0, 10.0],
            [11.0, 9.0, 10.0, 12.0],
            [12.0, 8.0, 11.0, np.nan],  # D stopped after June: its return runs to its last close (12)
            [12.0, 8.0, 11.0, np.nan],
        ]
    )
    targets = np.full((5, 2, 4), np.nan)
    targets[1] = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]]
    picks = annual_picks(targets, (0, 1), ("A", "B", "C", "D"), dates, close, start=0)
    assert picks["picks"] == {"2020": ["A", "B"]}
    assert picks["pick_returns"]["2020"] == pytest.approx({"A": 0.2, "B": -0.2})
    assert picks["universe_median_return"]["2020"] == pytest.approx(0.15)
    assert picks["picks_by_seed"] == {"2020": {"A": 1, "B": 1, "C": 1, "D": 1}}
    # returns to 2021-06-30: A +20%, B -20%, C +10%, D +20%; median +15%
    assert picks["picks_beat_median"]["share"] == 0.5
    assert picks["picks_beat_median"]["share_mean_over_seeds"] == 0.5  # C loses, D wins


# --- point-in-time universes (--universe) -------------------------------------------------------------
def universe_csv(tmp_path, text: str):
    path = tmp_path / "members.csv"
    path.write_text(text)
    return f"csv:{path}"


def test_a_listed_universe_limits_picks_and_the_benchmark(tmp_path):
    market = long_market()  # 2010-01-01 .. mid 2014, AAA BBB LATE GONE
    spec = universe_csv(
        tmp_path,
        "ticker,start,end\nAAA,2010-01-01,2011-06-30\nBBB,2010-01-01,\nlate,2011-01-01,\nAAA,2012-06-01,\n",
    )
    config = RunConfig(
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 2, "lookback_days": 60}),),
        universe=spec,
        cost_bps=0.0,
    )
    prepared = prepare(config, market=market)
    result = execute(prepared)
    payload = result.to_dict()
    members = {  # by hand, from the file above: decision close -> members
        "2010-12-31": {"AAA", "BBB"},
        "2011-12-30": {"BBB", "LATE"},
        "2012-12-31": {"AAA", "BBB", "LATE"},
        "2013-12-31": {"AAA", "BBB", "LATE"},
    }
    coverage = payload["universe"]["coverage"]
    assert {e["decision_close"] for e in coverage.values()} == set(members)
    picks = payload["strategies"][0]["picks"]
    for year, tickers in picks.items():
        close = coverage[year]["decision_close"]
        assert set(tickers) <= members[close], (year, tickers)
    assert coverage["2011"]["excluded"] == ["GONE"] and coverage["2011"]["members"] == 2
    assert coverage["2012"]["missing"] == [] and coverage["2012"]["with_prices"] == 2
    # the equal-weight benchmark holds exactly the members with prices at each year end
    bench = result.benchmarks[0].targets[:, 0, :]
    for t in np.flatnonzero(~np.isnan(bench).all(axis=1)):
        held = {market.tickers[j] for j in np.flatnonzero(bench[t] > 0)}
        last_end = max(d for d in members if np.datetime64(d) <= market.dates[t])
        assert held <= members[last_end]
    assert any("universe csv:" in n and "does not fix the price file" in n for n in payload["notes"])


def test_the_engine_rejects_a_pick_outside_the_universe(tmp_path):
    from engine.pipeline.drive import generate_targets
    from engine.pipeline.universe_mask import apply_universe
    from strategies.base import RuleStrategy
    from strategies.errors import StrategyError

    class EveryTicker(RuleStrategy):
        name = "every-ticker"
        frequency = "annual"

        def target_weights(self, history, seeds):
            weights = np.full(history.close.shape, np.nan)
            for t in np.flatnonzero(history.year_end):
                alive = ~np.isnan(history.close[t])
                weights[t] = np.where(alive, 1.0 / alive.sum(), 0.0)
            return weights

    market, _ = apply_universe(
        long_market(), universe_csv(tmp_path, "ticker,start,end\nAAA,2010-01-01,\n"), "annual"
    )
    with pytest.raises(
        StrategyError, match=r"weight on BBB on 2010-12-31, which is not in the run's universe"
    ):
        generate_targets(EveryTicker(), market, (0,))


def test_decision_closes_before_the_membership_data_are_refused(tmp_path):
    from feeds.errors import InputError

    spec = universe_csv(tmp_path, "ticker,start,end\nAAA,2012-01-01,\n")
    config = RunConfig(strategies=(StrategySpec(name="momentum-annual"),), universe=spec)
    with pytest.raises(InputError, match=r"membership data start 2012-01-01, but 2010-12-31 is a decision"):
        prepare(config, market=long_market())
    daily = RunConfig(strategies=(StrategySpec(name="ma-trend"),), universe=spec, start=None)
    with pytest.raises(InputError, match="restricts annual stock picks"):
        prepare(daily, market=long_market())


def test_sp500_picks_are_members_on_their_decision_close():
    """The bundled 20 stocks from 2004-12-30 with --universe sp500, checked against pitindex directly."""
    import datetime as dt
    import warnings

    import pitindex

    def members(day: str) -> set[str]:  # straight from the package, not through feeds.universe
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pitindex.get_constituents(dt.date.fromisoformat(day))
        return {t.replace(".", "-") for t in frame["ticker"]}

    def run(universe):
        config = RunConfig(
            strategies=(StrategySpec(name="momentum-annual"),),
            start=dt.date(2004, 12, 30),
            universe=universe,
        )
        result = execute(prepare(config))
        strategy = result.strategies[0]
        decided = np.flatnonzero(~np.isnan(strategy.targets[:, 0, :]).all(axis=1))
        market_dates = result.data_dates
        return result, [
            (str(market_dates[t]), [strategy.tickers[j] for j in np.flatnonzero(strategy.targets[t, 0] > 0)])
            for t in decided
        ]

    result, decisions = run("sp500")
    assert len(decisions) >= 15
    for day, picked in decisions:
        assert picked and set(picked) <= members(day), (day, picked)
    bench = result.benchmarks[0]
    for t in np.flatnonzero(~np.isnan(bench.targets[:, 0, :]).all(axis=1)):
        held = {bench.tickers[j] for j in np.flatnonzero(bench.targets[t, 0] > 0)}
        year_ends = [d for d, _ in decisions if np.datetime64(d) <= result.data_dates[t]]
        if year_ends:
            assert held <= members(year_ends[-1])
    payload = result.to_dict()
    coverage = payload["universe"]["coverage"]
    assert all(e["with_prices"] <= 20 and e["members"] > 450 for e in coverage.values())
    # without the universe the same strategy picks non-members (RRC, AMD): what the mask prevents
    _, plain = run(None)
    assert any(not set(picked) <= members(day) for day, picked in plain)


def test_the_mask_over_a_prefix_equals_the_mask_of_the_longer_data(tmp_path):
    """A daily update continues a run: the mask up to its last day must not change with later data."""
    from engine.pipeline.universe_mask import apply_universe

    spec = universe_csv(tmp_path, "ticker,start,end\nAAA,2010-01-01,\nBBB,2011-06-01,2013-01-01\n")
    market = long_market()
    full, _ = apply_universe(market, spec, "annual")
    year_ends = np.flatnonzero(market.year_end)[:3]
    for end in [*year_ends, *(year_ends + 1), 400]:  # data ending on a year end, just after it, mid-year
        part, _ = apply_universe(market.head(int(end) + 1), spec, "annual")
        assert np.array_equal(part.universe, full.universe[: end + 1])
        assert part.fingerprint() == full.head(int(end) + 1).fingerprint()


def test_coverage_notes_state_the_lowest_year_and_warn_below_the_threshold():
    from engine.pipeline.universe_mask import coverage_notes

    def info(*pairs: tuple[int, int]) -> dict:
        coverage = {str(2010 + i): {"with_prices": w, "members": m} for i, (w, m) in enumerate(pairs)}
        return {"spec": "sp500", "coverage": coverage}

    full = coverage_notes(info((500, 500), (495, 500)))
    assert full == [
        "universe sp500: coverage 99.0% of members with prices at the lowest (2011), "
        "99.5% on average over 2 years"
    ]
    low = coverage_notes(info((500, 500), (440, 500), (449, 500)))
    assert "88.0% of members with prices at the lowest (2011)" in low[0]
    assert low[1].startswith("warning: universe sp500: fewer than 90% of members have prices in 2 of 3 years")
    assert "(2011..2012)" in low[1] and "biases the result upward" in low[1]
