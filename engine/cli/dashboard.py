"""``backtest dashboard``: the Streamlit dashboard served headless (this process becomes the server)."""

from __future__ import annotations

from typing import Annotated

import typer

from engine.cli.options import RunsDirOpt


def dashboard(
    port: Annotated[int, typer.Option("--port", help="port to serve on")] = 8501,
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
    runs_dir: RunsDirOpt = None,
) -> None:
    """Start the Streamlit dashboard (headless) on http://HOST:PORT."""
    from engine.dashboard.launch import launch  # streamlit's import stays out of the other commands

    launch(host=host, port=port, runs_dir=runs_dir)
