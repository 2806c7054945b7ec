"""Exit codes of the engine's processes, and the pipeline's exceptions mapped to them (no surface library).

0 ok; 2 bad input (an option, a file, a row, a field: one clear line); 1 a failed
check, a failed strategy or an internal error; 130 interrupted; 141 (128 + SIGPIPE,
what ``cat`` and ``git`` report) when the reader of our output went away. The
``backtest`` command adds its usage errors and prints the line (``engine.cli.exits``);
any other process that runs the pipeline can exit with the same codes.
"""

from __future__ import annotations

import errno
import os
import sys

from feeds.errors import InputError

OK, FAILED, BAD_INPUT, INTERRUPTED, BROKEN_PIPE = 0, 1, 2, 130, 141


def is_broken_pipe(exc: BaseException) -> bool:
    """True when ``exc`` says that our output's reader has gone (EPIPE)."""
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE)


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def error_code(exc: BaseException) -> int:
    """The exit code of an exception the pipeline raised.

    Bad input 2, interrupted 130, broken pipe 141; ``StrategyError`` (a strategy that
    failed) and every other exception 1.
    """
    if is_broken_pipe(exc):
        return BROKEN_PIPE
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, InputError):
        return BAD_INPUT
    return FAILED
