"""The pipeline's exceptions mapped to exit codes without a surface library (engine/pipeline/exits.py)."""

from __future__ import annotations

import errno

from engine.pipeline.exits import BAD_INPUT, BROKEN_PIPE, FAILED, INTERRUPTED, error_code, is_broken_pipe
from feeds.errors import InputError
from strategies.errors import StrategyError


def test_each_kind_of_exception_gets_its_exit_code():
    assert (BAD_INPUT, FAILED, INTERRUPTED, BROKEN_PIPE) == (2, 1, 130, 141)
    assert error_code(InputError("prices.csv, row 3: close is not a number")) == BAD_INPUT
    assert error_code(StrategyError("strategy x raised on 2001-01-02")) == FAILED
    assert error_code(RuntimeError("bug")) == FAILED
    assert error_code(KeyboardInterrupt()) == INTERRUPTED
    assert error_code(BrokenPipeError()) == BROKEN_PIPE
    assert error_code(OSError(errno.EPIPE, "Broken pipe")) == BROKEN_PIPE
    assert not is_broken_pipe(OSError(errno.ENOENT, "No such file"))
