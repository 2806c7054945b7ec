"""Exit codes of the ``backtest`` command: every exception mapped in one place.

The codes and the pipeline's own exceptions are in ``engine.api (exits)``; this module adds
click's usage errors and prints the one line. 0 ok; 2 bad input (an option, a file,
a row, a field: one clear line) and usage errors (unknown command or option, missing
argument, a value out of range: one line too, ``error: ...``; no arguments at all:
help is printed, then exit 2, click's own convention for ``no_args_is_help``); 1 a failed check or an internal
error; 130 interrupted; 141 (128 + SIGPIPE, what ``cat`` and ``git`` report) when the
reader of our output went away, e.g. ``backtest show latest | head -1``, with nothing
printed.

typer (0.29) vendors its own copy of click, so the separate ``click``
package's exception classes never match what typer raises. The classes are taken
from typer's public API instead (``typer.BadParameter`` derives from the
``ClickException`` and ``UsageError`` typer really uses), and anything else with an
integer ``exit_code`` and a ``show()`` is treated the same way (duck typing), so an
upgrade that moves the classes again still maps usage errors to 2. A test drives
real argv through the installed console script to catch it if not.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from engine.api import (
    BROKEN_PIPE,
    EXITS_FAILED as FAILED,
    INTERRUPTED,
    OK,
    error_code,
    is_broken_pipe,
    silence_stdout,
)
from engine.cli.style import usage_line
from feeds.errors import InputError
from strategies.errors import StrategyError


def _click_class(name: str) -> type[BaseException] | None:
    """The click exception class ``name`` that the installed typer raises (via its public API)."""
    return next((c for c in type.mro(typer.BadParameter) if c.__name__ == name), None)


CLICK_EXCEPTION = _click_class("ClickException")


def _is_click_error(exc: BaseException) -> bool:
    if CLICK_EXCEPTION is not None and isinstance(exc, CLICK_EXCEPTION):
        return True
    # any click copy: a ClickException subclass by name, with an exit code and show()
    names = {c.__name__ for c in type(exc).__mro__}
    return "ClickException" in names and isinstance(getattr(exc, "exit_code", None), int)


def _is_exit(exc: BaseException) -> bool:
    # typer.Exit, click's Exit (any copy): carries the code a command chose
    return type(exc).__name__ == "Exit" and isinstance(getattr(exc, "exit_code", None), int)


def _is_abort(exc: BaseException) -> bool:
    return type(exc).__name__ == "Abort" and not isinstance(exc, InputError)


def run_command(
    invoke: Callable[[], Any], *, debug: bool, say: Callable[[str], None], ask_debug: bool = True
) -> int:
    """Call ``invoke`` (click's ``main`` in non-standalone mode) and return the exit code.

    ``say`` prints one line (markup allowed) on stderr; ``debug`` adds tracebacks.
    """
    try:
        returned = invoke()
        # without standalone mode, click returns the code of an Exit instead of raising it
        return returned if isinstance(returned, int) else OK
    except BaseException as exc:
        return exit_code(exc, debug=debug, say=say, ask_debug=ask_debug)


def exit_code(exc: BaseException, *, debug: bool, say: Callable[[str], None], ask_debug: bool = True) -> int:
    """Report ``exc`` (one line, a traceback with ``debug``) and return its exit code."""
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else (OK if exc.code is None else FAILED)
    if _is_exit(exc):
        return int(exc.exit_code)  # type: ignore[attr-defined]
    if is_broken_pipe(exc):
        silence_stdout()
        return BROKEN_PIPE
    if _is_click_error(exc):
        if type(exc).__name__ == "NoArgsIsHelpError":  # `backtest` alone: the help, then exit 2
            try:
                exc.show()  # type: ignore[attr-defined]
            except Exception as shown:
                if is_broken_pipe(shown):
                    return BROKEN_PIPE
        else:  # one line, like every other error (click's own is usage, hint and error: three)
            say(f"[red]error:[/red] {escape(usage_line(exc))}")
        return int(exc.exit_code)  # type: ignore[attr-defined]
    if isinstance(exc, KeyboardInterrupt) or _is_abort(exc):
        say("interrupted")
        return INTERRUPTED
    if debug:
        traceback.print_exception(exc)
    # messages quote user input ("[start, end]", paths): never read as markup
    if isinstance(exc, InputError | StrategyError):
        say(f"[red]error:[/red] {escape(str(exc))}")
        return error_code(exc)  # bad input 2, a failed strategy 1
    if not isinstance(exc, Exception):
        raise exc  # GeneratorExit and friends are not ours to map
    hint = " (run again with --debug for the traceback)" if ask_debug and not debug else ""
    say(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))}{hint}")
    return FAILED
