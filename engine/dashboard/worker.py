"""The dashboard's worker process: one run through the Python API, read from and written to a job folder.

Started by :meth:`engine.dashboard.jobs.Job.start` as
``python -I ... -m engine.dashboard.worker JOB_DIR`` (engine.dashboard.isolated:
the user's working directory cannot shadow the package). Everything it needs and
everything it says is a file in ``JOB_DIR`` (``<runs_dir>/.jobs/<job_id>``)::

    request.json   in:  {"config": RunConfig as JSON, "cache_dir", "plugins_dirs"}
    progress.json  out: the latest {stage, done, total, stage_started, time}, replaced atomically
    error.txt      out: one line, when the run failed (or a strategy in it did)
    result.json    out: {"run_id", "failed"} once the run is stored
    output.txt     out: the process's stdout and stderr (warnings, a traceback)

The config is plain JSON validated by ``RunConfig`` (nothing read here can execute
code), and the run is :func:`engine.api.run` with the first-use plugin audit of
``backtest run``. Exit codes as the CLI's: 0 ok, 1 a failure, 2 bad input.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from pydantic import ValidationError

from engine.api import Progress, ProgressEvent, write_json_atomic
from engine.config.run_config import RunConfig
from feeds.errors import InputError
from strategies.errors import StrategyError

REQUEST, PROGRESS, RESULT, ERROR, OUTPUT = (
    "request.json",
    "progress.json",
    "result.json",
    "error.txt",
    "output.txt",
)
JOB_ENV = "STOCKRNN_JOB"  # the runner writes it into the run's manifest as "job" (engine.api (runner))


def write_request(
    folder: Path, config: RunConfig, *, cache_dir: Path | None = None, plugins_dirs: list[str] | None = None
) -> None:
    """What the worker in ``folder`` runs: ``config`` exactly as checked, where to cache, which plugins."""
    write_json_atomic(
        folder / REQUEST,
        {
            "config": config.model_dump(mode="json"),
            "cache_dir": None if cache_dir is None else str(cache_dir),
            "plugins_dirs": list(plugins_dirs or []),
        },
    )


def read_request(folder: Path) -> tuple[RunConfig, Path | None, list[str]]:
    """The config, cache dir and plugins dirs that :func:`write_request` wrote (validated, never executed)."""
    request = json.loads((folder / REQUEST).read_text())
    cache_dir = request.get("cache_dir")
    plugins_dirs = [str(p) for p in request.get("plugins_dirs") or []]
    return (
        RunConfig.model_validate(request["config"]),
        None if cache_dir is None else Path(cache_dir),
        plugins_dirs,
    )


def progress_writer(path: Path) -> Progress:
    """A progress callback (:class:`engine.api.Progress`) that keeps the latest event in ``path``.

    The file holds :meth:`ProgressEvent.to_dict` plus ``stage_started`` (first event
    of the stage) and ``time``, Unix seconds: the page estimates the time left in the
    stage from them. Replaced atomically, so a reader never sees half a file.
    """
    began: dict[str, float] = {}

    def record(stage: str, done: int, total: int) -> None:
        now = time.time()
        began.setdefault(stage, now)
        event = ProgressEvent(stage, done, total).to_dict()
        write_json_atomic(path, {**event, "stage_started": began[stage], "time": now})

    return record


def run_job(folder: Path) -> int:
    """Run the request in ``folder``; write its outcome there; return the exit code."""
    try:
        config, cache_dir, plugins_dirs = read_request(folder)
        _set_env(folder.name, plugins_dirs)
        from engine import api  # after the environment: the registry reads the plugins dirs from it

        run = api.run(
            config,
            runs_dir=folder.parent.parent,
            cache_dir=cache_dir,
            progress=progress_writer(folder / PROGRESS),
            audit_plugins=True,
        )
    except BaseException as exc:
        traceback.print_exc()  # into output.txt; the page shows the one line of error.txt
        _fail(folder, _line(exc))
        if isinstance(exc, KeyboardInterrupt):
            return 130
        return 2 if _is_input(exc) else 1
    if run.failed:  # stored, but a strategy in it failed: the page says so, as the CLI's exit 1 does
        _fail(folder, "; ".join(f"strategy {name} failed: {why}" for name, why in run.failed.items()))
    write_json_atomic(folder / RESULT, {"run_id": run.run_id, "failed": run.failed})
    return 1 if run.failed else 0


def _is_input(exc: BaseException) -> bool:
    return isinstance(exc, (InputError, ValidationError))


def _set_env(job_id: str, plugins_dirs: list[str]) -> None:
    from strategies.registry import PLUGINS_ENV

    os.environ[JOB_ENV] = job_id
    if plugins_dirs:
        os.environ[PLUGINS_ENV] = os.pathsep.join(plugins_dirs)
    else:
        os.environ.pop(PLUGINS_ENV, None)


def _line(exc: BaseException) -> str:
    """One line: bad input and broken strategies speak for themselves; anything else gets its type."""
    text = str(exc) if isinstance(exc, (InputError, StrategyError)) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def _fail(folder: Path, line: str) -> None:
    tmp = folder / (ERROR + ".tmp")
    tmp.write_text(line + "\n", encoding="utf-8")
    tmp.replace(folder / ERROR)


def main(argv: list[str] | None = None) -> None:
    """``python -m engine.dashboard.worker JOB_DIR``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m engine.dashboard.worker JOB_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_job(Path(args[0])))


if __name__ == "__main__":
    main()
