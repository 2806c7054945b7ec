"""The real ``backtest`` console script on bad invocations: usage errors exit 2, no internal errors.

These run real argv through the installed entry point (a subprocess), so an upgrade of
typer or click that changes which exceptions reach us cannot silently break the mapping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def backtest_command() -> list[str]:
    """The console script next to this interpreter (the one `pip install` made), else the module."""
    script = Path(sys.executable).with_name("backtest")
    if script.is_file():
        return [str(script)]
    found = shutil.which("backtest")
    return [found] if found else [sys.executable, "-m", "engine.cli"]


def run_cli(args: list[str], tmp_path: Path, **kw) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "STOCKRNN_RUNS_DIR": str(tmp_path / "runs"),
        "STOCKRNN_CACHE_DIR": str(tmp_path / "cache"),
        "COLUMNS": "100",
    }
    return subprocess.run(
        [*backtest_command(), *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path, **kw
    )


BAD_INVOCATIONS = [
    (["run", "--seeds", "0"], "--seeds"),
    (["run", "--seeds", "100000"], "--seeds"),
    (["run", "--bogus-option"], "--bogus-option"),
    (["nosuchcmd"], "nosuchcmd"),
    (["show"], "RUN_ID"),
    (["run", "--seed-list", "99999999999999999999"], "seed"),
    (["run", "--cost-bps", "nan"], "finite"),
    (["runs", "--runs-dir", "a-file"], "not a directory"),
    (["run", "--runs-dir", "a-file", "--strategy", "buy-and-hold"], "not a directory"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_INVOCATIONS, ids=[" ".join(a) for a, _ in BAD_INVOCATIONS])
def test_bad_invocations_exit_2_with_one_clear_message(tmp_path, args, fragment):
    (tmp_path / "a-file").write_text("not a directory\n")
    done = run_cli(args, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert fragment.lower() in done.stderr.lower(), done.stderr


def test_no_arguments_prints_help_and_exits_2(tmp_path):
    done = run_cli([], tmp_path)
    assert done.returncode == 2  # click's convention for no_args_is_help: a usage error
    assert "Usage" in done.stdout + done.stderr and "run" in done.stdout + done.stderr
    assert "internal error" not in done.stderr


def test_help_exits_0(tmp_path):
    done = run_cli(["--help"], tmp_path)
    assert done.returncode == 0 and "Usage" in done.stdout


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(tmp_path):
    made = run_cli(
        ["run", "--strategy", "ma-trend", "--start", "2019-01-01", "--end", "2020-12-31"], tmp_path
    )
    assert made.returncode == 0, made.stderr
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "STOCKRNN_RUNS_DIR": str(tmp_path / "runs"),
    }
    # `backtest show latest | head -1`: the reader goes away after one line
    proc = subprocess.Popen(
        [*backtest_command(), "show", "latest"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    code = proc.wait(timeout=60)
    stderr = proc.stderr.read()
    assert code in (0, 141), stderr  # 141 = 128 + SIGPIPE, what `cat` or `git` report
    assert "Traceback" not in stderr and "internal error" not in stderr and "Exception ignored" not in stderr


def in_process(capsys, *args):
    from engine.cli import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_a_sweep_period_with_one_date_is_bad_input(tmp_path, capsys):
    spec = tmp_path / "one.toml"
    spec.write_text('name = "one"\nperiods = [["2020-01-01"]]\n[[strategies]]\nname = "ma-trend"\n')
    code, _, err = in_process(capsys, "sweep", str(spec), "--runs-dir", str(tmp_path / "runs"))
    assert code == 2 and "period" in err and "internal error" not in err, err
    assert "expected [start, end]" in err  # brackets in a message are text, not rich markup


def test_a_plugin_class_missing_a_method_is_bad_input(tmp_path, capsys):
    plugin = tmp_path / "half.py"
    plugin.write_text(
        "from strategies import OnlineStrategy\n\n"
        "class Half(OnlineStrategy):\n    name = 'half'\n\n"
        "    def begin(self, history, seeds):\n        pass\n"
    )
    code, _, err = in_process(capsys, "run", "--strategy", f"{plugin}:Half", "--start", "2020-01-01")
    assert code == 2 and "decide" in err and "internal error" not in err, err


def test_a_process_with_torch_ends_without_teardown_and_says_everything(tmp_path):
    """With torch loaded, main() ends a successful command's process itself (os._exit): output to
    a pipe is complete (flushed first); bad input still exits 2 (the normal way)."""
    done = run_cli(["--version"], tmp_path)  # imports torch for the device line
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("backtest (stock-rnn)") and "--device auto ->" in done.stdout
    bad = run_cli(["run", "--strategy", "lstm-stateful", "--data", "csv:missing.csv"], tmp_path)
    assert bad.returncode == 2, bad.stderr
    assert "missing.csv" in bad.stderr and "Traceback" not in bad.stderr
