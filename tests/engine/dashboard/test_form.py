"""The dashboard's run form check: every bad field at once, the exact config otherwise."""

from __future__ import annotations

import datetime as dt

from engine.dashboard.form import check_run_form, data_spec, param_key
from engine.dashboard.worker import read_request, write_request
from strategies.registry import resolve


def check(**overrides):
    values = {
        "data": "sample",
        "data_range": (dt.date(1990, 1, 2), dt.date(2022, 12, 28)),
        "frequency": "daily",
        "strategies": {"ma-trend": {}},
        "params_models": {
            "ma-trend": resolve("ma-trend").Params,
            "lstm-stateful": resolve("lstm-stateful").Params,
        },
        "stochastic": False,
        "seeds": 10,
        "start": None,
        "end": None,
        "cost_bps": 5.0,
    }
    return check_run_form(**{**values, **overrides})


def test_a_valid_form_gives_the_config_and_deterministic_runs_get_one_seed():
    result = check(strategies={"ma-trend": {"window": 50}})
    assert result.ok and result.errors == {}
    assert result.config.seeds == (0,)
    assert result.config.strategies[0].params == {"window": 50}


def test_every_bad_field_is_reported_not_only_the_first():
    result = check(
        strategies={"ma-trend": {"window": 1}, "lstm-stateful": {"hidden": 0, "lr": -1.0}},
        stochastic=True,
        seeds=0,
        cost_bps=1e9,
        start=dt.date(2030, 1, 1),
    )
    assert not result.ok and result.config is None
    assert set(result.errors) >= {
        param_key("ma-trend", "window"),
        param_key("lstm-stateful", "hidden"),
        param_key("lstm-stateful", "lr"),
        "seeds",
        "cost-bps",
        "start",
    }
    assert "got 1" in result.errors[param_key("ma-trend", "window")]
    assert all("--" not in reason for reason in result.errors.values())  # no CLI wording


def test_dates_outside_or_reversed_are_refused_and_the_whole_data_is_allowed():
    assert check(start=dt.date(1990, 1, 2), end=dt.date(2022, 12, 28)).ok
    assert "end" in check(start=dt.date(2000, 1, 1), end=dt.date(1999, 1, 1)).errors
    assert "end" in check(end=dt.date(1980, 1, 1)).errors


def test_no_strategy_is_a_field_error():
    assert "strategies" in check(strategies={}).errors


def test_data_spec_refuses_non_price_files_in_plain_words(tmp_path):
    spec, reason = data_spec("file", str(tmp_path / "notes.md"))
    assert spec is None and "expected a .csv or .parquet file" in reason
    spec, reason = data_spec("file", str(tmp_path / "missing.csv"))
    assert spec is None and "no such file" in reason
    good = tmp_path / "x.csv"
    good.write_text("Date,Close\n")
    assert data_spec("file", str(good)) == (f"csv:{good}", "")
    assert data_spec("yahoo", tickers=[])[0] is None


def test_the_worker_reads_exactly_the_checked_config(tmp_path):
    result = check(
        strategies={"lstm-stateful": {"hidden": 8, "lr": 0.0005, "ensemble": False, "loss": "linex"}},
        stochastic=True,
        seeds=3,
        start=dt.date(2000, 1, 3),
        cost_bps=7.5,
        cash_rate="0.03",
        universe="",
    )
    config = result.config
    write_request(tmp_path, config, cache_dir=tmp_path / "cache", plugins_dirs=["/p"])
    again, cache_dir, plugins = read_request(tmp_path)
    assert again == config  # the typed config itself, no command line in between
    assert again.strategies[0].params == {"hidden": 8, "lr": 0.0005, "ensemble": False, "loss": "linex"}
    assert (cache_dir, plugins) == (tmp_path / "cache", ["/p"])
