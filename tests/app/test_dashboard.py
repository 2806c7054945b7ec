"""The Streamlit dashboard driven through its widgets (streamlit.testing AppTest)."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.config.run_config import RunConfig, StrategySpec
from engine.dashboard.jobs import Job, active_jobs
from engine.dashboard.launch import page_path
from engine.dashboard.tables import metrics_rows
from engine.dashboard.warm_up import WARMED
from engine.pipeline.prepare import prepare
from engine.store.result_schema import parse_result
from engine.store.run_store import RunStore
from engine.workflows.record import run_and_store
from tests.conftest import random_walk_market, write_yahoo_csv

# app.py (``streamlit run app.py`` in a checkout) serves the package's page; `backtest dashboard` serves
# the page file itself (test_the_packaged_page_file_is_the_same_page)
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
    """The page's charts (engine.dashboard.chart_view: plotly.js drawn by an in-page component)."""
    return [e for e in at.get("bidi_component") if e.proto.component_name == "stockrnn.chart"]


def idle_signals(at: AppTest) -> list:
    return [e for e in at.get("bidi_component") if e.proto.component_name == "stockrnn.page_idle"]


def shown_lines(at: AppTest) -> list[str]:
    """The text of the page's plain-lines boxes (engine.dashboard.run_view.show_lines), unescaped."""
    boxes = [e.proto.body for e in at.get("html") if "stockrnn-lines" in e.proto.body]
    return [html.unescape(re.sub(r"<[^>]+>", "", b)) for b in boxes]


def open_tab(at: AppTest, name: str) -> AppTest:
    """Tabs are lazy (only the open one runs): open one as a click would."""
    at.session_state["section"] = name
    return at.run()


def wait_for(at: AppTest, key: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and key not in at.session_state:
        time.sleep(0.5)
        at.run()


def fill_file_form(at: AppTest, csv_file: Path) -> None:
    at.selectbox(key="data-source").select("file (CSV/Parquet)").run()
    at.text_input(key="data-path").input(f"csv:{csv_file}").run()


def test_opening_a_stored_run_shows_the_numbers_of_backtest_show(runs, csv_file):
    result = stored_run(runs, csv_file)
    payload = result.to_dict()
    broken = runs.root / "20000101-000000-broken"  # a half-written folder must not crash the page
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    at = open_tab(AppTest.from_file(APP, default_timeout=60).run(), "Runs")
    assert not at.exception
    listing = at.dataframe[0].value  # pandas
    status = dict(zip(listing["run"], listing["status"], strict=True))
    assert status[result.run_id] == "complete"
    assert status[broken.name] in ("broken", "incomplete")
    assert at.selectbox(key="open-run").value == result.run_id
    # the exact configuration is echoed above the figures
    echo = shown_lines(at)[0]
    assert "lstm-stateful:" in echo and "hidden=8" in echo and "seeds 0..2 (3)" in echo
    # metrics table of the opened run: exactly the rows the views build from the stored payload
    tables = [d.value for d in at.dataframe]
    metrics = next(t for t in tables if "CAGR %" in t.columns and "strategy" in t.columns)
    want = metrics_rows(parse_result(payload))
    assert metrics["strategy"].tolist() == [r["strategy"] for r in want]
    assert metrics["strategy"].tolist()[:2] == [
        "lstm-stateful · seed mean (3 seeds)",
        "lstm-stateful · ensemble",
    ]
    assert metrics["CAGR %"].tolist() == [r["CAGR %"] for r in want]
    assert round(payload["strategies"][0]["cagr"] * 100, 2) == metrics["CAGR %"].iloc[0]
    yearly = next(t for t in tables if "year" in t.columns)
    assert "lstm-stateful · ensemble" in yearly.columns  # the ensemble is in the yearly table
    assert len(plotly_charts(at)) >= 3  # equity, drawdown, per-year
    at.session_state["browse-view"] = "Tearsheet"
    at.run()
    assert not at.exception
    assert len(plotly_charts(at)) >= 5  # heatmap, rolling, excess, exposure, distribution
    assert payload["basis"]["statement"] in [c.value for c in at.caption]  # the basis under the table


def test_running_from_the_panel_stores_a_run_and_shows_it(runs, csv_file):
    at = AppTest.from_file(APP, default_timeout=60).run()
    fill_file_form(at, csv_file)
    at.multiselect(key="strategies-daily").select("ma-trend")
    at.number_input(key="param-ma-trend-window").set_value(20)
    at.run()
    assert not at.button(key="run").disabled
    at.button(key="run").click().run()
    wait_for(at, "last_run")
    assert not at.exception
    assert "last_run" in at.session_state, [e.value for e in at.error]
    run_id = at.session_state["last_run"]
    _, payload = runs.load_metrics(run_id)
    assert payload["strategies"][0]["params"]["window"] == 20
    assert payload["config"]["seeds"] == [0]  # deterministic: one run, not "10 seeds"
    at.run()
    assert any(run_id in s.value for s in at.success)
    assert "ma-trend: window=20" in shown_lines(at)[0]
    assert len(plotly_charts(at)) >= 3
    assert not active_jobs(runs.root)  # the job's record is gone once its outcome was shown


def test_invalid_fields_disable_run_and_say_why_beside_each_field(csv_file):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.button(key="run").disabled
    at.number_input(key="param-ma-trend-window").set_value(1)
    at.number_input(key="cost").set_value(1e9)
    at.run()
    assert at.button(key="run").disabled
    reasons = [e.value for e in at.error]
    assert any(
        "greater than or equal to 2" in r and "got 1" in r for r in reasons
    )  # both fields, not the first
    assert any("10000" in r for r in reasons)
    assert at.number_input(key="param-ma-trend-window").value == 1  # kept as typed, never replaced
    at.number_input(key="param-ma-trend-window").set_value(100000).run()
    assert any("less than or equal to 2000" in e.value for e in at.error)
    assert at.number_input(key="param-ma-trend-window").value == 100000
    at.number_input(key="param-ma-trend-window").set_value(50)
    at.number_input(key="cost").set_value(5.0)
    at.run()
    assert not at.button(key="run").disabled
    # dates: the pickers span the data (1990..2022 in the sample), a start after the data is refused
    at.checkbox(key="limit-dates").check().run()
    assert at.date_input(key="start").value.year == 1990
    at.date_input(key="start").set_value(dt.date(2030, 1, 1)).run()
    assert at.button(key="run").disabled
    assert any("the data end on 2022-12-28" in e.value for e in at.error)
    # a file that is not a price file is refused at the data field, without CLI wording
    at.date_input(key="start").set_value(dt.date(1995, 1, 1))
    at.selectbox(key="data-source").select("file (CSV/Parquet)").run()
    at.text_input(key="data-path").input(str(csv_file.with_suffix(".md"))).run()
    assert at.button(key="run").disabled
    text = " ".join(e.value for e in at.error)
    assert "expected a .csv or .parquet file" in text and "md:" not in text and "--" not in text


def test_the_packaged_page_file_is_the_same_page():
    at = AppTest.from_file(str(page_path()), default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.tabs][:4] == ["Run", "Runs", "Compare", "Sweeps"]
    assert at.multiselect(key="strategies-daily").value == ["ma-trend"]
    assert not at.button(key="run").disabled


def test_switching_to_annual_offers_annual_strategies_and_keeps_the_daily_choice():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.radio(key="frequency").set_value("annual").run()
    assert at.multiselect(key="strategies-annual").value == ["momentum-annual"]
    assert not at.button(key="run").disabled
    at.radio(key="frequency").set_value("daily").run()
    assert at.multiselect(key="strategies-daily").value == ["ma-trend"]


def test_a_reloaded_page_reattaches_to_a_running_job(runs, csv_file):
    config = RunConfig(
        data=f"csv:{csv_file}", strategies=(StrategySpec(name="ma-trend", params={"window": 20}),)
    )
    job = Job.start(config, runs_dir=runs.root)
    at = AppTest.from_file(APP, default_timeout=60).run()  # a new session: the job is not in its memory
    assert at.session_state["job"].job_id == job.job_id
    wait_for(at, "last_run")
    assert not at.exception
    _, payload = runs.load_metrics(at.session_state["last_run"])
    assert payload["strategies"][0]["params"]["window"] == 20


def test_the_sweeps_tab_shows_a_sweep(runs, csv_file):
    from engine.workflows.sweep import run_sweep

    spec = {
        "name": "tiny",
        "data": f"csv:{csv_file}",
        "seeds": 1,
        "strategies": [{"name": "ma-trend", "grid": {"window": [10, 20]}}],
    }
    run_sweep(spec, runs, workers=1)
    at = open_tab(AppTest.from_file(APP, default_timeout=60).run(), "Sweeps")
    assert not at.exception
    assert at.selectbox(key="sweep").value == "tiny"
    table = next(d.value for d in at.dataframe if "DSR best" in d.value.columns)
    assert sorted(table["cell"].tolist()) == ["ma-trend window=10", "ma-trend window=20"]


def test_compare_aligns_runs_and_lists_the_settings_that_differ(runs, csv_file):
    a = stored_run(runs, csv_file, hidden=8)
    b = stored_run(runs, csv_file, hidden=4)
    at = open_tab(AppTest.from_file(APP, default_timeout=60).run(), "Compare")
    assert not at.exception
    assert sorted(at.multiselect(key="compare-runs").value) == sorted([a.run_id, b.run_id])
    diff = next(d.value for d in at.dataframe if "setting" in d.value.columns)
    assert diff["setting"].tolist() == ["lstm-stateful.hidden"]
    headings = [m.value for m in at.markdown]
    assert any("Settings that differ" in h for h in headings)
    yearly = next(e.proto.body for e in at.get("html") if "<th>year</th>" in e.proto.body)
    assert f"{a.run_id[-6:]} lstm-stateful · seed mean (3 seeds)</th>" in html.unescape(yearly)  # whole


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
    assert "my-plugin" in at.multiselect(key="strategies-daily").options
    at.multiselect(key="strategies-daily").select("my-plugin").run()
    assert at.number_input(key="param-my-plugin-level").value == 0.5


def test_a_universe_run_shows_its_coverage(runs, tmp_path):
    from tests.engine.pipeline.test_universe_mask import long_market

    members = tmp_path / "members.csv"
    members.write_text("ticker,start,end\nAAA,2010-01-01,\nBBB,2010-01-01,2012-06-30\nLATE,2011-01-01,\n")
    config = RunConfig(
        strategies=(StrategySpec(name="momentum-annual", params={"top_k": 1, "lookback_days": 60}),),
        universe=f"csv:{members}",
    )
    result = run_and_store(prepare(config, market=long_market()), runs)
    at = open_tab(AppTest.from_file(APP, default_timeout=60).run(), "Runs")
    assert not at.exception
    assert at.selectbox(key="open-run").value == result.run_id
    at.session_state["browse-view"] = "Seeds, evidence, picks"  # coverage sits beside the picks
    at.run()
    assert not at.exception
    tables = [d.value for d in at.dataframe]
    coverage = next(t for t in tables if "with prices" in t.columns)
    assert coverage["year"].tolist() == list(result.to_dict()["universe"]["coverage"])
    assert "GONE" in coverage["not members"].iloc[0]


def test_the_run_form_keeps_its_values_across_a_tab_switch(csv_file):
    at = AppTest.from_file(APP, default_timeout=60).run()
    fill_file_form(at, csv_file)
    at.number_input(key="param-ma-trend-window").set_value(37)
    at.number_input(key="cost").set_value(7.5)
    at.text_input(key="cash-rate").input("0.02")
    at.checkbox(key="limit-dates").check().run()
    at.date_input(key="start").set_value(dt.date(1991, 3, 4)).run()
    open_tab(at, "Runs")
    assert not at.exception
    open_tab(at, "Compare")
    open_tab(at, "Run")
    assert not at.exception
    assert at.selectbox(key="data-source").value == "file (CSV/Parquet)"
    assert at.text_input(key="data-path").value == f"csv:{csv_file}"
    assert at.number_input(key="param-ma-trend-window").value == 37
    assert at.number_input(key="cost").value == 7.5
    assert at.text_input(key="cash-rate").value == "0.02"
    assert at.checkbox(key="limit-dates").value
    assert at.date_input(key="start").value == dt.date(1991, 3, 4)
    # and annual and back: the daily choice and its parameters are still there
    at.radio(key="frequency").set_value("annual").run()
    at.radio(key="frequency").set_value("daily").run()
    assert at.number_input(key="param-ma-trend-window").value == 37


def test_the_run_form_is_kept_in_the_address_and_a_new_session_reads_it_back(csv_file):
    at = AppTest.from_file(APP, default_timeout=60).run()
    fill_file_form(at, csv_file)
    at.number_input(key="cost").set_value(7.5)
    at.multiselect(key="strategies-daily").set_value(["ma-trend", "lstm-stateful"]).run()
    at.number_input(key="seeds").set_value(4)
    at.number_input(key="param-ma-trend-window").set_value(37)
    at.checkbox(key="limit-dates").check().run()
    at.date_input(key="start").set_value(dt.date(1991, 3, 4)).run()
    at.text_input(key="cash-rate").input("0.02").run()
    address = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert address["cost"] == "7.5" and address["seeds"] == "4" and address["start"] == "1991-03-04"
    assert "dividends" not in address  # defaults stay out of the address
    reloaded = AppTest.from_file(APP, default_timeout=60)
    reloaded.query_params.update(address)
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.text_input(key="data-path").value == f"csv:{csv_file}"
    assert reloaded.number_input(key="cost").value == 7.5
    assert reloaded.multiselect(key="strategies-daily").value == ["ma-trend", "lstm-stateful"]
    assert reloaded.number_input(key="seeds").value == 4
    assert reloaded.number_input(key="param-ma-trend-window").value == 37
    assert reloaded.date_input(key="start").value == dt.date(1991, 3, 4)
    assert reloaded.text_input(key="cash-rate").value == "0.02"


def test_an_address_with_values_of_the_wrong_type_opens_the_defaults():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"cost": "lots", "seeds": "2.5", "start": "yesterday", "limit-dates": "1"})
    at.query_params.update({"strategies-daily": '{"a": 1}', "frequency": "weekly"})
    at.run()
    assert not at.exception
    assert at.number_input(key="cost").value == 5.0
    assert at.radio(key="frequency").value == "daily"
    assert at.multiselect(key="strategies-daily").value == ["ma-trend"]
    assert not at.checkbox(key="limit-dates").value


def test_the_today_tab_shows_the_daily_log_in_a_plain_box(runs):
    runs.root.mkdir(parents=True, exist_ok=True)
    (runs.root / "daily.log").write_text("2026-12-03T19:45:50Z updated idx: 5 day(s) <ok>\n")
    at = open_tab(AppTest.from_file(APP, default_timeout=60).run(), "Today")
    assert not at.exception
    assert shown_lines(at) == ["2026-12-03T19:45:50Z updated idx: 5 day(s) <ok>"]  # escaped, not st.code
    assert not at.code


def test_the_hidden_warm_up_waits_until_the_browser_says_the_page_is_idle():
    """First script run: only the in-page idle signal at the page's end, no chart or table for the
    browser to start while the page's own widgets arrive; once the signal has come (kept in the
    session), every run draws the hidden chart and table and no longer asks for it."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not plotly_charts(at) and not at.dataframe
    assert idle_signals(at)  # the signal (engine.dashboard.warm_up.page_idle)
    at.session_state[WARMED] = True  # what the signal's rerun records
    at.run()
    assert [c.proto.id.endswith("warm-up-chart") for c in plotly_charts(at)] == [True]
    assert len(at.dataframe) == 1 and not idle_signals(at)
    assert not at.exception
