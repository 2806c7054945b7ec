"""``backtest dashboard``: Streamlit serving the page of this package, from any working directory.

The server runs the installed page file (:func:`page_path`, engine/dashboard/page.py)
in an isolated child (engine.dashboard.isolated), so neither the page nor its
worker runs can import a folder of the working directory instead of the package.
The settings of the checkout's ``.streamlit/config.toml`` are passed as options
(:data:`STREAMLIT_OPTIONS`): Streamlit reads that file only from the working
directory, and an installed package has none.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

from engine.dashboard.isolated import isolated_command

# the settings of .streamlit/config.toml (a test keeps the two the same), plus headless serving
STREAMLIT_OPTIONS: dict[str, str] = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "client.toolbarMode": "minimal",  # no Deploy button: a local research tool
    # no watching of the page's source files for edits: every new browser session registered a
    # watch per module of the checkout, 1-2 s of each first paint on a loaded 2-core machine
    # (measured, benchmarks/dashboard_check.py); a developer editing the page reloads it
    "server.fileWatcherType": "none",
}


def page_path() -> Path:
    """The page file Streamlit serves (part of the installed package)."""
    return Path(__file__).resolve().with_name("page.py")


def command(host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The command line of the Streamlit server on http://HOST:PORT."""
    options = [f"--{name}={value}" for name, value in STREAMLIT_OPTIONS.items()]
    address = [f"--server.port={port}", f"--server.address={host}"]
    return isolated_command("streamlit", "run", str(page_path()), *options, *address)


def launch(host: str = "127.0.0.1", port: int = 8501, runs_dir: Path | None = None) -> NoReturn:
    """Become the dashboard's server on http://HOST:PORT (``runs_dir``: as ``--runs-dir``); never returns.

    Says where on stderr first. The process is replaced (``exec``), so a signal to
    it reaches Streamlit and no orphan is left behind.
    """
    env = dict(os.environ)
    if runs_dir:
        env["STOCKRNN_RUNS_DIR"] = str(runs_dir)
    line = command(host, port)
    print(f"dashboard on http://{host}:{port}  (Ctrl-C stops it)", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(line[0], line, env)
