"""``backtest daily``: tracked runs continued one day at a time equal a run in one go, a signal per session,
twice in an evening does nothing, two at once do not both work, a failing fetch is retried."""

from __future__ import annotations

import fcntl
import json
import os

import polars as pl
import pytest

from engine.cli import main
from engine.workflows import daily as daily_mod
from engine.workflows.daily import daily, refresh
from tests.conftest import random_walk_market, write_yahoo_csv
from tests.feeds.yahoo_stub import PublishingYahoo

LSTM = [
    "--strategy",
    "lstm-stateful",
    "--seed-list",
    "0,1",
    "--param",
    "hidden=4",
    "--param",
    "warmup_years=0.5",
]


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def _csv(path, market, rows):
    lines = write_yahoo_csv(path.with_suffix(".full"), market).read_text().splitlines()
    path.write_text("\n".join(lines[: rows + 1]) + "\n")


def _frames(runs, run_id):
    return (
        pl.read_parquet(runs / run_id / "equity.parquet"),
        pl.read_parquet(runs / run_id / "weights.parquet"),
    )


@pytest.mark.slow
def test_a_week_of_evenings_equals_one_run_and_writes_a_signal_per_session(capsys, tmp_path):
    market = random_walk_market(n=330, seed=3)
    data, runs = tmp_path / "IDX.csv", tmp_path / "runs"
    _csv(data, market, 320)
    code, out, err = cli(capsys, "run", "--data", f"csv:{data}", *LSTM, "--runs-dir", str(runs), "--json")
    assert code == 0, err
    first = json.loads(out)["run_id"]
    assert cli(capsys, "track", first, "--name", "idx", "--runs-dir", str(runs))[0] == 0
    for rows in (321, 323, 323, 326, 330):  # two days at once (a late provider), an evening with nothing new
        _csv(data, market, rows)
        code, _, err = cli(capsys, "daily", "--runs-dir", str(runs))
        assert code == 0, err
    code, out, err = cli(capsys, "daily", "--runs-dir", str(runs))
    assert code == 0 and "up to date" in err
    tracked = json.loads((runs / "tracked.json").read_text())["runs"]["idx"]["run_id"]
    code, out, _ = cli(capsys, "run", "--data", f"csv:{data}", *LSTM, "--runs-dir", str(runs), "--json")
    whole = json.loads(out)
    stored = json.loads((runs / tracked / "metrics.json").read_text())
    for key in ("strategies", "benchmark", "period"):
        assert stored[key] == whole[key]
    for a, b in zip(_frames(runs, tracked), _frames(runs, whole["run_id"]), strict=True):
        assert a.equals(b)
    signals = sorted(p.stem for p in (runs / "signals" / "idx").glob("*.json"))
    dates = [str(d) for d in market.dates[320:330]]
    assert signals == dates  # one per session, each from the day's own update
    weights = _frames(runs, whole["run_id"])[1]
    for day in signals:
        written = json.loads((runs / "signals" / "idx" / f"{day}.json").read_text())
        decided = weights.filter(
            (pl.col("date").cast(pl.String) == day)
            & (pl.col("role") == "strategy")
            & (pl.col("member") == "0")
        ).sort("ticker")
        assert written["weights"]["lstm-stateful"]["0"] == dict(
            zip(decided["ticker"].to_list(), decided["weight"].to_list(), strict=True)
        )
        assert written["applies_to_session"] > day
    code, out, _ = cli(capsys, "signal", "idx", "--runs-dir", str(runs))
    assert code in (0, None) and signals[-1] in out


def test_a_second_daily_while_one_holds_the_lock_does_nothing(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    fd = os.open(runs / daily_mod.LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert daily(runs).locked
    finally:
        os.close(fd)
    assert not daily(runs).locked


def test_a_fetch_that_fails_twice_is_retried_with_backoff(tmp_path):
    calls, waits = [], []

    def flaky(ticker, cache_dir):
        calls.append(ticker)
        if len(calls) <= 2:
            raise ConnectionError("reset by peer")

    refresh("yahoo:SPY", tmp_path, sleep=waits.append, fetch=flaky)
    assert calls == ["SPY"] * 3 and waits == [daily_mod.BACKOFF_S, 2 * daily_mod.BACKOFF_S]
    with pytest.raises(OSError, match="fetch of SPY failed 4 times"):
        refresh("yahoo:SPY", tmp_path, sleep=waits.append, fetch=lambda t, c: 1 / 0)


def test_a_damaged_tracked_file_is_one_line(capsys, tmp_path):
    (tmp_path / "tracked.json").write_text("{not json")
    code, _, err = cli(capsys, "daily", "--runs-dir", str(tmp_path))
    assert code == 2 and "tracked.json: not a tracked-runs file" in err


def _readme_commands():
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = text[text.index("## Daily operation") :]
    cron = re.search(r"```cron\n(.*?)```", section, re.S).group(1)
    line = next(x for x in cron.splitlines() if x.strip() and not x.startswith("CRON_TZ"))
    cron_cmd = shlex.split(line.split(None, 5)[5].split(">>")[0])
    service = re.search(r"ExecStart=(.*)", section).group(1)
    return cron_cmd, shlex.split(service)


def test_the_cron_and_systemd_lines_of_the_readme_run(capsys, tmp_path):
    for argv in _readme_commands():
        assert argv[0] == "backtest" and argv[1] == "daily"
        args = [a.replace("%h", str(tmp_path)).replace("/home/me", str(tmp_path)) for a in argv[2:]]
        code, _, err = cli(capsys, "daily", *args)
        assert code in (0, None), err
        assert "no tracked runs" in err


@pytest.mark.slow
def test_a_tracked_yahoo_run_survives_a_dividend_and_a_split_and_equals_one_run(
    capsys, tmp_path, monkeypatch
):
    """Evenings of `daily` over yahoo: data whose Yahoo answers rescale the past (a dividend, then a 2:1
    split, then another dividend) end equal, bit for bit, to one `backtest run` over the whole data."""
    import yfinance

    market = random_walk_market(n=330, seed=3)
    raw = market.close[:, 0].copy()
    raw[325:] /= 2.0  # 2:1 split on row 325
    stub = PublishingYahoo(
        market.dates, raw, dividends={322: 0.8, 328: 0.4}, splits={325: 2.0}, published=320
    )
    monkeypatch.setattr(
        yfinance, "download", stub
    )  # only the network is replaced: fetch, cache and store are real
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    where = ("--runs-dir", str(runs), "--cache-dir", str(cache))
    assert cli(capsys, "data", "fetch", "SPY", "--cache-dir", str(cache))[0] in (0, None)
    code, out, err = cli(capsys, "run", "--data", "yahoo:SPY", *LSTM, *where, "--json")
    assert code == 0, err
    first = json.loads(out)["run_id"]
    assert cli(capsys, "track", first, "--name", "spy", "--runs-dir", str(runs))[0] == 0
    for rows in (321, 323, 323, 326, 330):  # the dividend on 322, the split on 325, a dividend on 328
        stub.published = rows
        code, _, err = cli(capsys, "daily", *where)
        assert code == 0, err
    assert all(kw["actions"] is True and kw["auto_adjust"] is False for _, kw in stub.calls)
    assert all(start != "1900-01-01" for start, _ in stub.calls[1:])  # refreshes only append
    tracked = json.loads((runs / "tracked.json").read_text())["runs"]["spy"]["run_id"]
    code, out, _ = cli(capsys, "run", "--data", "yahoo:SPY", *LSTM, *where, "--json")
    whole = json.loads(out)
    assert "SPY: dividends reinvested (Yahoo dividend events)" in whole["basis"]["statement"]
    stored = json.loads((runs / tracked / "metrics.json").read_text())
    for key in ("strategies", "benchmark", "period", "basis"):
        assert stored[key] == whole[key]
    for a, b in zip(_frames(runs, tracked), _frames(runs, whole["run_id"]), strict=True):
        assert a.equals(b)
    signals = sorted(p.stem for p in (runs / "signals" / "spy").glob("*.json"))
    assert signals == [str(d) for d in market.dates[320:330]]


def test_a_tracked_run_over_an_adjusted_file_whose_past_changed_names_the_first_day(capsys, tmp_path):
    market = random_walk_market(n=330, seed=3)
    data, runs = tmp_path / "SPY.csv", tmp_path / "runs"
    _csv(data, market, 320)
    code, out, err = cli(capsys, "run", "--data", f"csv:{data}", *LSTM, "--runs-dir", str(runs), "--json")
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    assert cli(capsys, "track", run_id, "--name", "spy", "--runs-dir", str(runs))[0] == 0
    # a new dividend: the provider's adjusted closes of every earlier day are rescaled
    rows = data.read_text().splitlines()
    head, body = rows[0], [r.split(",") for r in rows[1:]]
    for cells in body:
        cells[5] = f"{float(cells[5]) * 0.99:.6f}"
    last = market.close[320, 0]
    extra = f"{market.dates[320]},{last:.6f},{last:.6f},{last:.6f},{last:.6f},{last:.6f},1000"
    data.write_text("\n".join([head, *(",".join(c) for c in body), extra]) + "\n")
    code, _, err = cli(capsys, "daily", "--runs-dir", str(runs))
    assert code == 2
    line = " ".join(err.split())  # the terminal wraps long lines
    assert (
        "changed in the past" in line
        and f"first on {market.dates[0]}" in line
        and "backtest track NEW_RUN --name spy" in line
    )
    code, _, err = cli(capsys, "update", run_id, "--data", f"csv:{data}", "--runs-dir", str(runs))
    assert code == 2 and f"first on {market.dates[0]}" in " ".join(err.split())
