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
