"""The ``backtest`` command line.

Exit codes: 0 ok, 2 bad input (a file, row, field or option; one clear line),
1 a failed check or an internal error (a traceback only with ``--debug``).
Results go to stdout (``--json``: one JSON object); progress and warnings to stderr.

One module per command group; this one holds the app, its global options and
``main``. Commands are registered below in the order ``backtest --help`` lists them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli import audits, daily, dashboard, plugins, runs, stored, sweeps
from engine.cli.console import err
from engine.cli.data import data_app
from engine.cli.headlines import headlines_app
from engine.cli.style import style
from feeds.errors import DataQuirkWarning

app = typer.Typer(
    name="backtest",
    help="Backtest machine-learned stock strategies honestly against buy-and-hold.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.add_typer(data_app, name="data")
app.add_typer(headlines_app, name="headlines")
app.command()(runs.run)
app.command()(audits.audit)
app.command()(runs.update)
app.command()(runs.rerun)
app.command()(stored.runs)
app.command()(stored.show)
app.command()(stored.compare)
app.command()(plugins.strategies)
app.command()(sweeps.sweep)
app.command("sweep-report")(sweeps.sweep_report)
app.command("new-strategy")(plugins.new_strategy)
app.command()(dashboard.dashboard)
app.command()(daily.track)
app.command()(daily.daily)
app.command()(daily.signal)


def _print_version(value: bool) -> None:
    if value:
        from engine import __version__

        print(f"backtest (stock-rnn) {__version__}")
        print(_device_line())
        raise typer.Exit()


def _device_line() -> str:
    """What torch sees: its version, its CUDA build, the GPUs (what ``--device auto`` would take)."""
    from strategies.nn.device import device_info, resolve_device

    info = device_info()
    gpus = f"{info['gpus']} CUDA GPU(s), the first {info['gpu']}" if info["gpus"] else "no CUDA GPU"
    build = f"CUDA {info['cuda']} build" if info["cuda"] else "CPU-only build"
    mps = "; Apple MPS available" if info["mps"] else ""
    return f"torch {info['torch']} ({build}): {gpus}{mps}; --device auto -> {resolve_device('auto')}"


@app.callback()
def _options(
    plugins_dir: Annotated[
        list[Path] | None,
        typer.Option("--plugins-dir", help="also load strategies from the *.py files here (repeatable)"),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Backtest machine-learned stock strategies honestly against buy-and-hold."""
    if plugins_dir:
        from strategies.registry import PLUGINS_ENV

        # an environment variable, so dashboard worker runs see the same plugins
        present = [p for p in os.environ.get(PLUGINS_ENV, "").split(os.pathsep) if p]
        os.environ[PLUGINS_ENV] = os.pathsep.join([*(str(p.resolve()) for p in plugins_dir), *present])


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    err.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``backtest`` console script (exit codes: ``engine.cli.exits``)."""
    from engine.cli.exits import run_command

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    warnings.simplefilter("default", DataQuirkWarning)
    warnings.showwarning = _show_warning  # one line per data quirk, on stderr
    command = style(typer.main.get_command(app))  # one help style: defaults, no <bool>
    code = run_command(
        lambda: command.main(args=args, prog_name="backtest", standalone_mode=False),
        debug=debug,
        say=lambda line: err.print(line, highlight=False, soft_wrap=True),  # one line, unwrapped
    )
    try:
        sys.stdout.flush()
    except OSError as exc:  # the reader went away after our last write
        from engine.api import BROKEN_PIPE, is_broken_pipe, silence_stdout

        if not is_broken_pipe(exc):
            raise
        silence_stdout()
        code = BROKEN_PIPE
    if argv is None:  # the console script or ``python -m engine``: this process ends here
        _end_process(code)
    sys.exit(code)


def _end_process(code: int) -> None:
    """Exit with ``code`` without the interpreter's teardown after a command that succeeded with
    torch or numba loaded.

    Tearing them down costs 0.3-0.9 s CPU and saves nothing: the store's files are
    written, flushed and closed by the command, pools and servers are shut down by it
    (the audit's workers end the same way). A failed or interrupted command, a process
    without them, and one that started Ray (its own exit hooks) exit normally.
    """
    heavy = "torch" in sys.modules or "numba" in sys.modules
    if code != 0 or not heavy or "ray" in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or gone: nothing more to say there
            stream.flush()
    os._exit(code)
