"""Errors and warnings about input data.

``InputError`` is the one exception for bad input anywhere in the project (a file,
a row, a field, an option): the CLI turns it into one clear line and exit code 2.
``DataQuirkWarning`` flags known real-data oddities that are tolerated. A strategy's
failure is :class:`strategies.errors.StrategyError` (with the strategies: feeds
import nothing from them).
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: the message names the file, row and field."""


class DataQuirkWarning(UserWarning):
    """A known real-data quirk that is tolerated (e.g. Open = 0 on old index rows)."""
