"""pandas on the dashboard's server: imported once, by one script thread at a time, never seen half imported.

Streamlit starts a new script run in a new thread at a click while the old one runs on to its
next page element: two threads importing pandas at once can each get a module the other has
only half imported (CPython's import deadlock avoidance). Streamlit's tables import it to convert;
plotly's JSON writer does not import it but uses it when ``sys.modules`` has it, and a half-imported
pandas there failed a chart with "partially initialized module 'pandas' has no attribute 'Series'"
(seen once in benchmarks/dashboard_check.py shots, a field edited while the idle warm-up drew).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_PANDAS_LOCK = threading.Lock()


def import_pandas_once() -> None:
    """Import pandas, every script thread through the same lock (once imported: a dict lookup).

    Call this before any table.
    """
    with _PANDAS_LOCK:
        import pandas  # noqa: F401  (the import is the point)


@contextmanager
def pandas_whole_or_absent() -> Iterator[None]:
    """Meanwhile no thread is midway through :func:`import_pandas_once`: ``sys.modules`` holds all
    of pandas or none of it. For code that uses pandas only if it is already imported (plotly's JSON)."""
    with _PANDAS_LOCK:
        yield
