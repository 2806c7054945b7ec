"""CLI help and errors in one style (issue 29): defaults shown, no ``<bool>``, options named, one line."""

from __future__ import annotations

import pytest
import typer

from engine.cli import app, main
from engine.cli.style import commands, style


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def help_rows(capsys, monkeypatch, *command: str) -> dict[str, str]:
    """``backtest COMMAND --help`` on a terminal wide enough for one row per option: option -> row."""
    monkeypatch.setenv("COLUMNS", "400")
    code, out, _ = cli(capsys, *command, "--help")
    assert code == 0
    rows = {}
    for line in out.splitlines():
        words = line.strip("│ ").split()
        if words and words[0].startswith("--"):
            rows[words[0]] = line
    return rows


def tree():
    """Every command of ``backtest`` (styled as main() styles them), with its path."""

    def walk(command, path):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(style(typer.main.get_command(app)), []))


@pytest.mark.parametrize(
    ("option", "default"),
    [
        ("--seeds", "[default: 10]"),
        ("--frequency", "[default: the strategies' own]"),
        ("--runs-dir", "[default: $STOCKRNN_RUNS_DIR, else "),
        ("--cache-dir", "[default: $STOCKRNN_CACHE_DIR, else "),
        ("--cost-bps", "[default: 5.0]"),
        ("--dividends", "[default: reinvest"),
        ("--headline-column", "[default: auto-detected]"),
        ("--timezone", "[default: America/New_York]"),
    ],
)
def test_run_help_shows_the_default(capsys, monkeypatch, option, default):
    row = help_rows(capsys, monkeypatch, "run")[option]
    assert default in row, row
    assert row.count("[default:") == 1, row  # stated once: the help's own, or typer's


def test_every_option_with_a_default_shows_it():
    for path, command in tree():
        ctx = command.context_class(command, info_name=command.name)
        for param in command.get_params(ctx):
            if param.param_type_name != "option" or param.is_flag or param.hidden:
                continue
            typer_shows = param.default is not None and param.default != [] and param.show_default
            stated = "[default:" in (param.help or "")
            assert typer_shows or stated or param.default is None, (path, param.opts)


def test_no_bool_metavar_in_any_help(capsys, monkeypatch):
    for path, _ in tree():
        rows = help_rows(capsys, monkeypatch, *path)
        assert "--help" in rows
        assert not any("<bool>" in row for row in rows.values()), (path, rows)


def test_a_help_text_in_brackets_is_text_not_markup(capsys, monkeypatch):
    # "[env STOCKRNN_RUNS_DIR]" and "[strategy.]" read as rich markup tags were dropped
    rows = help_rows(capsys, monkeypatch, "run")
    assert "[strategy.]name=value" in rows["--param"]
    assert "[bps]" in rows["--cost-bps"]


def test_styling_twice_changes_nothing():
    command = style(typer.main.get_command(app))
    before = [p.help for c in commands(command) for p in c.params]
    style(command)
    assert [p.help for c in commands(command) for p in c.params] == before


@pytest.mark.parametrize(
    ("args", "option", "field"),
    [
        (["--lag", "9"], "--lag 9", "execution_lag"),
        (["--cost-bps", "-1"], "--cost-bps", "cost_bps"),
        (["--cash-rate", "2"], "--cash-rate 2", "cash_rate"),
        (["--max-leverage", "0"], "--max-leverage", "max_leverage"),
        (["--device", "tpu"], "--device 'tpu'", "device:"),
        (["--frequency", "weekly"], "--frequency weekly", "frequency:"),
        (["--start", "2010-01-01", "--end", "2000-01-01"], "--start 2010-01-01", "config:"),
    ],
)
def test_an_error_names_the_option_typed(capsys, tmp_path, args, option, field):
    code, _, err = cli(capsys, "run", *args, "--runs-dir", str(tmp_path / "runs"))
    assert code == 2
    assert err.strip().startswith(f"error: {option}"), err
    assert field not in err and len(err.strip().splitlines()) == 1, err


def test_a_missing_file_names_the_option(capsys, tmp_path):
    missing = tmp_path / "rates.csv"
    code, _, err = cli(capsys, "run", "--cash-rate", f"csv:{missing}", "--runs-dir", str(tmp_path / "r"))
    assert code == 2 and err.strip().startswith(f"error: --cash-rate csv:{missing}: no such file"), err


def test_a_config_file_keeps_the_field_it_names(capsys, tmp_path):
    # the user wrote execution_lag in the file: the message names that, not --lag
    config = tmp_path / "run.toml"
    config.write_text("execution_lag = 9\n")
    code, _, err = cli(capsys, "run", "--config", str(config), "--runs-dir", str(tmp_path / "r"))
    assert code == 2 and "execution_lag" in err and "--lag" not in err, err


def test_audit_names_the_option_too(capsys):
    code, _, err = cli(capsys, "audit", "ma-trend", "--timezone", "Nowhere/Special")
    assert code == 2 and err.strip().startswith("error: --timezone 'Nowhere/Special'"), err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--bogus"], "no such option: --bogus"),
        (["run", "--lagg", "1"], "did you mean --lag?"),
        (["show"], "missing argument"),
        (["run", "--seeds", "abc"], "invalid value for '--seeds'"),
        (["run", "--seeds", "0"], "--seeds"),
        (["nosuchcommand"], "no such command 'nosuchcommand'"),
        (["data", "nosuch"], "no such command 'nosuch'"),
    ],
)
def test_a_usage_error_is_one_line_exit_2(capsys, args, fragment):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err
    assert "Usage:" not in err and "╭" not in err


def test_no_arguments_still_prints_the_help(capsys):
    code, out, err = cli(capsys)
    assert code == 2 and "Usage" in out + err and "run" in out + err
