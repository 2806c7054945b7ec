"""``backtest dashboard``: Streamlit serving the package's own page file, with the checkout's settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from engine.dashboard import launch as launch_module
from engine.dashboard.isolated import package_root
from engine.dashboard.launch import STREAMLIT_OPTIONS, command, launch, page_path

ROOT = Path(__file__).resolve().parents[3]


def test_the_page_is_a_file_of_the_package():
    assert page_path().is_file() and page_path().parent == Path(launch_module.__file__).resolve().parent
    assert page_path().is_relative_to(package_root() / "engine")


def test_the_server_gets_the_settings_of_the_checkouts_streamlit_config():
    """Streamlit reads .streamlit/config.toml only from the working directory: launch passes each setting."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    settings = {f"{section}.{k}": v for section, values in config.items() for k, v in values.items()}
    shown = {k: {"true": True, "false": False}.get(v, v) for k, v in STREAMLIT_OPTIONS.items()}
    assert settings and all(shown.get(k) == v for k, v in settings.items())
    line = command("0.0.0.0", 9999)
    assert line[1] == "-I" and line[line.index("streamlit") + 1 : line.index("streamlit") + 3] == [
        "run",
        str(page_path()),
    ]
    assert "--server.port=9999" in line and "--server.address=0.0.0.0" in line
    assert all(f"--{k}={v}" in line for k, v in STREAMLIT_OPTIONS.items())


def test_launch_becomes_the_server_with_the_runs_dir(monkeypatch, capsys, tmp_path):
    seen = {}

    def execve(path, args, env):
        seen.update(path=path, args=args, env=env)
        raise SystemExit(0)

    monkeypatch.setattr(launch_module.os, "execve", execve)
    with pytest.raises(SystemExit):
        launch(host="127.0.0.1", port=8600, runs_dir=tmp_path / "r")
    assert seen["args"] == command("127.0.0.1", 8600) and seen["path"] == seen["args"][0]
    assert seen["env"]["STOCKRNN_RUNS_DIR"] == str(tmp_path / "r")
    assert capsys.readouterr().err == "dashboard on http://127.0.0.1:8600  (Ctrl-C stops it)\n"
