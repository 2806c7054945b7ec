"""End-to-end CLI tests on small data (in-process, plus a few real subprocesses)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from engine.cli import main
from tests.conftest import random_walk_market, write_yahoo_csv


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


@pytest.fixture
def csv_file(tmp_path):
    return write_yahoo_csv(tmp_path / "TEST.csv", random_walk_market(n=500, seed=5))


def test_default_run_prints_buy_and_hold_and_the_baseline(capsys):
    code, out, err = cli(capsys, "run", "--start", "2015-01-01")
    assert code == 0, err
    assert "ma-trend" in out and "buy-and-hold" in out
    assert "CAGR" in out and "Yield per calendar year" in out and "stored:" in out


def test_json_output_has_the_documented_keys(capsys, csv_file):
    code, out, _ = cli(
        capsys,
        "run",
        "--data",
        f"csv:{csv_file}",
        "--strategy",
        "ma-trend",
        "--strategy",
        "tests/fixtures/leaky.py:HonestOnline",
        "--seed-list",
        "3,5",
        "--param",
        "ma-trend.window=20",
        "--json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["run_id"] and payload["period"]["start"] and payload["period"]["end"]
    entries = [*payload["strategies"], payload["benchmark"]]
    for entry in entries:
        for key in ("name", "cagr", "yearly", "sharpe", "max_drawdown", "aggregate"):
            assert key in entry
        for key in ("cagr_mean", "cagr_std", "cagr_best", "cagr_worst"):
            assert key in entry["aggregate"]
    honest = payload["strategies"][1]
    assert [s["seed"] for s in honest["seeds"]] == [3, 5]
    assert all("cagr" in s for s in honest["seeds"])
    assert payload["strategies"][0]["params"] == {"window": 20, "short": False}
    agg = honest["aggregate"]
    assert agg["cagr_best"] == max(s["cagr"] for s in honest["seeds"])
    assert agg["cagr_worst"] == min(s["cagr"] for s in honest["seeds"])


def test_show_prints_the_same_numbers_as_run(capsys, csv_file):
    _, out, _ = cli(capsys, "run", "--data", str(csv_file), "--json")
    ran = json.loads(out)
    code, shown, _ = cli(capsys, "show", ran["run_id"], "--json")
    assert code == 0 and json.loads(shown) == ran
    code, table, _ = cli(capsys, "show", "latest")
    assert code == 0 and ran["run_id"] in table


def test_runs_and_compare(capsys, csv_file):
    ids = []
    for cost in ("0", "20"):
        _, out, _ = cli(capsys, "run", "--data", str(csv_file), "--cost-bps", cost, "--json")
        ids.append(json.loads(out)["run_id"])
    code, out, _ = cli(capsys, "runs")
    assert code == 0 and all(i in out for i in ids) and "complete" in out
    code, out, _ = cli(capsys, "compare", *ids)
    assert code == 0 and "side by side" in out and "20 bps" in out


def test_strategies_lists_parameters_with_defaults(capsys):
    code, out, _ = cli(capsys, "strategies", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert {"buy-and-hold", "ma-trend", "momentum-annual"} <= set(rows)
    window = next(p for p in rows["ma-trend"]["params"] if p["name"] == "window")
    assert window["default"] == 200 and "trading days" in window["description"]


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["run", "--data", "csv:/no/such.csv"], "/no/such.csv: no such file"),
        (["run", "--data", "ftp:x"], "--data 'ftp:x': expected sample"),
        (["run", "--strategy", "ma-trnd"], "unknown strategy 'ma-trnd'; did you mean 'ma-trend'?"),
        (["run", "--param", "windo=3"], "has a parameter 'windo'"),
        (["run", "--strategy", "ma-trend", "--param", "ma-trend.window=1"], "parameter 'window'"),
        (["run", "--seeds", "3", "--seed-list", "1,2"], "either --seeds N or --seed-list"),
        (["run", "--seed-list", "a,b"], "--seed-list 'a,b'"),
        (["run", "--ticker", "NOPE"], "ticker NOPE has no rows"),
        (["run", "--frequency", "daily", "--strategy", "momentum-annual"], "makes annual signals"),
        (["run", "--start", "2030-01-01"], "fewer than 2 trading days"),
        (["run", "--cost-bps", "-1"], "cost_bps"),
        (["show", "nosuchrun"], "no run 'nosuchrun'"),
    ],
)
def test_bad_input_is_one_clear_line_with_exit_code_2(capsys, args, fragment):
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert fragment in " ".join(err.split()), err
    assert "Traceback" not in err and "Traceback" not in out


def test_bad_csv_names_file_row_and_field(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-06,10\n2020-01-07,oops\n")
    code, _, err = cli(capsys, "run", "--data", f"csv:{bad}")
    assert code == 2
    assert "bad.csv row 2 (line 3), field 'Close': cannot parse 'oops' as a number" in " ".join(err.split())


def test_audit_catches_the_leaking_strategy_and_passes_builtins(capsys):
    code, out, _ = cli(capsys, "audit", "tests/fixtures/leaky.py:PeekTomorrow", "--start", "2018-01-01")
    assert code == 1 and "FAIL" in out and "LOOK-AHEAD" in out
    for name in ("buy-and-hold", "ma-trend"):
        code, out, _ = cli(capsys, "audit", name, "--start", "2015-01-01")
        assert code == 0 and "PASS" in out


@pytest.mark.slow
def test_subprocess_errors_have_no_traceback_and_debug_shows_one(tmp_path):
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(tmp_path / "runs")}
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    cmd = [sys.executable, "-m", "engine.cli", "run", "--data", f"csv:{bad}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "empty.csv: empty file" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*cmd, "--debug"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" in done.stderr


@pytest.mark.slow
def test_same_config_and_seed_give_identical_results_in_fresh_processes(tmp_path):
    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(tmp_path / "runs")}
    cmd = [
        sys.executable,
        "-m",
        "engine.cli",
        "run",
        "--strategy",
        "tests/fixtures/leaky.py:HonestOnline",
        "--strategy",
        "ma-trend",
        "--seeds",
        "3",
        "--start",
        "2012-01-01",
        "--json",
    ]
    first, second = (
        json.loads(
            subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=True).stdout
        )
        for _ in range(2)
    )
    assert first.pop("run_id") != second.pop("run_id")
    assert first == second  # every figure, bit for bit (floats round-trip exactly through JSON)


def test_show_writes_a_tearsheet_with_html(capsys, csv_file, tmp_path):
    code, _, err = cli(
        capsys, "run", "--data", f"csv:{csv_file}", "--strategy", "ma-trend", "--param", "window=20"
    )
    assert code == 0, err
    page = tmp_path / "sheet.html"
    code, _, err = cli(capsys, "show", "latest", "--html", str(page))
    assert code == 0, err
    assert "tearsheet written" in err and page.read_text().startswith("<!doctype html>")
    code, _, err = cli(capsys, "show", "latest", "--html", str(tmp_path / "no" / "dir" / "x.html"))
    assert code == 2 and "cannot write" in err


def test_show_html_on_a_full_disk_leaves_no_half_written_page(capsys, csv_file, tmp_path, monkeypatch):
    """Issue 23: `show --html` on a full disk is one line at exit 2 and nothing at the path (the
    page was written in place before, leaving a truncated file)."""
    from engine.store import writes

    code, _, err = cli(capsys, "run", "--data", f"csv:{csv_file}", "--strategy", "ma-trend")
    assert code == 0, err
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    real = writes.os.write

    def full(fd: int, data: bytes) -> int:
        real(fd, bytes(data)[:4096])  # part of the page reaches the disk, then it is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writes.os, "write", full)
    code, _, err = cli(capsys, "show", "latest", "--html", str(out_dir / "sheet.html"))
    monkeypatch.undo()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert "sheet.html" in lines[0] and "disk full" in lines[0]
    assert list(out_dir.iterdir()) == []  # no truncated page, no temp file left
