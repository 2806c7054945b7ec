"""Where the ``backtest`` command writes: results on stdout (``out``), progress and warnings on stderr."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Piped output gets 120 columns (rich would use 80) so tables stay readable in logs.
_WIDTH = int(os.environ.get("COLUMNS", "0") or 0) or (None if sys.stdout.isatty() else 120)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits with 1 here; a reader that stops early (`| head`) is not a failure of ours:
        # let engine.cli.exits map it (141, quietly)
        self.quiet = True
        raise BrokenPipeError


out = _Console(width=_WIDTH)
err = _Console(stderr=True, width=_WIDTH)


@contextmanager
def progress_bars(enabled: bool = True, file: Path | None = None) -> Iterator[Any]:
    """A progress callback (stage, done, total) drawing bars on stderr, or writing ``file``.

    ``file`` (the dashboard's worker runs): the latest {stage, done, total} as JSON,
    replaced atomically, so a reader never sees half a line.
    """
    if not enabled:
        yield None
        return
    if file is not None:
        from engine.api import write_json_atomic

        began: dict[str, float] = {}

        def record(stage: str, done: int, total: int) -> None:
            now = time.time()  # stage start and now: the page estimates the time left in the stage
            began.setdefault(stage, now)
            write_json_atomic(
                file,
                {"stage": stage, "done": done, "total": total, "stage_started": began[stage], "time": now},
            )

        yield record
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
