"""``backtest dashboard``: the Streamlit dashboard served headless (this process becomes the server)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.console import err
from engine.cli.options import RunsDirOpt
from feeds.errors import InputError


def dashboard(
    port: Annotated[int, typer.Option("--port", help="port to serve on")] = 8501,
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    runs_dir: RunsDirOpt = None,
) -> None:
    """Start the Streamlit dashboard (headless) on http://HOST:PORT."""
    app_path = Path(__file__).resolve().parents[2] / "app.py"
    if not app_path.is_file():  # a non-editable install: app.py is a top-level module
        import importlib.util

        spec = importlib.util.find_spec("app")  # find it without running the Streamlit script
        if spec is None or spec.origin is None:
            raise InputError("app.py is not installed with this package")
        app_path = Path(spec.origin)
    env = dict(os.environ)
    if runs_dir:
        env["STOCKRNN_RUNS_DIR"] = str(runs_dir)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",  # no Deploy button: this is a local research tool
    ]
    err.print(f"dashboard on http://{host}:{port}  (Ctrl-C stops it)")
    sys.stdout.flush()
    sys.stderr.flush()
    # become the server: a signal to this process reaches streamlit, no orphan is left behind
    os.execve(sys.executable, command, env)
