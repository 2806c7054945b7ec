"""Headlines wired into runs: features join the market, the cache is hit the second time, the audit passes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config.run_config import RunConfig, StrategySpec
from engine.pipeline.prepare import prepare
from engine.store.run_store import RunStore
from engine.workflows.audit import audit
from engine.workflows.record import run_and_store
from strategies.lstm import LstmStateful
from tests.conftest import random_walk_market, write_yahoo_csv

pytestmark = pytest.mark.slow  # loads the bundled MiniLM model (a few seconds)


@pytest.fixture
def files(tmp_path):
    market = random_walk_market(n=300, tickers=("IDX",), seed=8)
    csv = write_yahoo_csv(tmp_path / "IDX.csv", market)
    rng = np.random.default_rng(1)
    words = ["stocks rally", "markets fall", "central bank holds rates", "oil jumps", "tech slides"]
    lines = ["Date,News"]
    for day in market.dates[::2]:
        for _ in range(3):
            lines.append(f"{day},{words[rng.integers(len(words))]} in {rng.integers(50)} places")
    news = tmp_path / "news.csv"
    news.write_text("\n".join(lines) + "\n")
    return market, csv, news


def test_headline_features_cache_and_audit(tmp_path, files):
    _, csv, news = files
    config = RunConfig(
        data=f"csv:{csv}",
        headlines=f"csv:{news}",
        strategies=(StrategySpec(name="lstm-stateful", params={"hidden": 8, "warmup_years": 0.3}),),
        seeds=(0, 1),
    )
    first = prepare(config, cache_dir=tmp_path / "cache")
    feats = first.market.features
    assert feats["headlines"].shape == (300, 384)
    # date-only headlines count from the next trading day: day 0 has none, day 1 has day 0's three
    assert feats["headline_count"][:3, 0].tolist() == [0.0, 3.0, 0.0]
    assert first.headlines["embedded"] > 0
    again = prepare(config, cache_dir=tmp_path / "cache")
    assert again.headlines["embedded"] == 0 and again.headlines["cache_hits"] == first.headlines["embedded"]
    assert np.array_equal(again.market.features["headlines"], feats["headlines"])

    result = run_and_store(again, RunStore(tmp_path / "runs"))
    payload = result.to_dict()
    assert payload["data"]["headlines"]["days_with_headlines"] == 150
    assert any("headlines" in n for n in payload["notes"])

    report = audit(lambda: LstmStateful({"hidden": 8, "warmup_years": 0.3}), again.market, (0,), cuts=2)
    assert report.passed, report.problems
    plain = prepare(config.model_copy(update={"headlines": None}))
    assert "headlines" not in plain.market.features
