"""The Streamlit dashboard driven through its widgets (streamlit.testing AppTest)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.config import RunConfig, StrategySpec
from engine.runner import prepare, run_and_store
from engine.store import RunStore
from engine.views import metrics_rows
from tests.conftest import random_walk_market, write_yahoo_csv

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def runs(tmp_path):
    return RunStore(tmp_path / "runs")


@pytest.fixture
def csv_file(tmp_path):
    return write_yahoo_csv(tmp_path / "IDX.csv", random_walk_market(n=400, tickers=("IDX",), seed=3))


def stored_run(runs: RunStore, csv_file: Path, **params):
    config = RunConfig(
        data=f"csv:{csv_file}",
        strategies=(StrategySpec(name="lstm-stateful", params={"hidden": 8, "warmup_years": 0.5, **params}),),
        seeds=(0, 1, 2),
    )
    return run_and_store(prepare(config), runs)


def plotly_charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def test_opening_a_stored_run_shows_the_numbers_of_backtest_show(runs, csv_file):
    result = stored_run(runs, csv_file)
    payload = result.to_dict()
    broken = runs.root / "20000101-000000-broken"  # a half-written folder must not crash the page
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    listing = at.dataframe[0].value  # pandas
    status = dict(zip(listing["run"], listing["status"], strict=True))
    assert status[result.run_id] == "complete"
    assert status[broken.name] in ("broken", "incomplete")
    assert at.selectbox(key="open-run").value == result.run_id
    # metrics table of the opened run: exactly the rows the views build from the stored payload
    tables = [d.value for d in at.dataframe]
    metrics = next(t for t in tables if "CAGR %" in t.columns and "strategy" in t.columns)
    want = metrics_rows(payload)
    assert metrics["strategy"].tolist() == [r["strategy"] for r in want]
    assert metrics["CAGR %"].tolist() == [r["CAGR %"] for r in want]
    assert round(payload["strategies"][0]["cagr"] * 100, 2) == metrics["CAGR %"].iloc[0]
    assert len(plotly_charts(at)) >= 4  # equity, per-year, seed distribution, drawdown
    assert payload["basis"]["statement"] in [c.value for c in at.caption]  # the basis under the table


def test_running_from_the_panel_stores_a_run_and_shows_it(runs, csv_file):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="data-source").select("file (CSV/Parquet)").run()
    at.text_input(key="data-path").input(f"csv:{csv_file}")
    at.multiselect(key="strategies").select("ma-trend")
    at.number_input(key="param-ma-trend-window").set_value(20)
    at.number_input(key="seeds").set_value(1)
    at.button(key="run").click().run()
    deadline = time.time() + 120
    while time.time() < deadline and "last_run" not in at.session_state:
        time.sleep(0.5)
        at.run()
    assert not at.exception
    assert "last_run" in at.session_state, [e.value for e in at.error]
    run_id = at.session_state["last_run"]
    _, payload = runs.load_metrics(run_id)
    assert payload["strategies"][0]["params"]["window"] == 20
    at.run()
    assert any(run_id in s.value for s in at.success)
    assert len(plotly_charts(at)) >= 3


def test_the_sweeps_tab_shows_a_sweep(runs, csv_file):
    from engine.sweep import run_sweep

    spec = {
        "name": "tiny",
        "data": f"csv:{csv_file}",
        "seeds": 1,
        "strategies": [{"name": "ma-trend", "grid": {"window": [10, 20]}}],
    }
    run_sweep(spec, runs, workers=1)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="sweep").value == "tiny"
    table = next(d.value for d in at.dataframe if "DSR best" in d.value.columns)
    assert sorted(table["cell"].tolist()) == ["ma-trend window=10", "ma-trend window=20"]


def test_a_plugin_appears_in_the_strategy_list_with_its_parameters(tmp_path, monkeypatch):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "mine.py").write_text(
        "import numpy as np\nfrom pydantic import Field\n"
        "from strategies import RuleStrategy, StrategyParams\n\n"
        "class P(StrategyParams):\n    level: float = Field(0.5, description='fraction invested')\n\n"
        "class Mine(RuleStrategy):\n    name = 'my-plugin'\n"
        "    summary = 'a plugin'\n    Params = P\n\n"
        "    def target_weights(self, history, seeds):\n"
        "        w = np.full(history.close.shape, np.nan)\n"
        "        w[0] = self.params.level\n        return w\n"
    )
    monkeypatch.setenv("STOCKRNN_PLUGINS_DIR", str(plugins))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert "my-plugin" in at.multiselect(key="strategies").options
    at.multiselect(key="strategies").select("my-plugin").run()
    assert at.number_input(key="param-my-plugin-level").value == 0.5


def test_a_universe_run_shows_its_coverage(runs, tmp_path):
    from tests.engine.test_universe import long_market

    members = tmp_path / "members.csv"
    members.write_text("ticker,start,end\nAAA,2010-01-01,\nBBB,2010-01-01,2012-06-30\nLATE,2011-01-01,\n")
    config = RunConfig(
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 1, "lookback_days": 60}),),
        universe=f"csv:{members}",
    )
    result = run_and_store(prepare(config, market=long_market()), runs)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="open-run").value == result.run_id
    tables = [d.value for d in at.dataframe]
    coverage = next(t for t in tables if "with prices" in t.columns)
    assert coverage["year"].tolist() == list(result.to_dict()["universe"]["coverage"])
    assert "GONE" in coverage["not members"].iloc[0]
