"""``backtest daily``: bring every tracked run up to date, one day at a time, and write tomorrow's signal.

What a scheduler runs every evening (README, "Daily operation"). For each tracked run
(``engine.store.tracking``): refresh its data (``yahoo:`` tickers through the cache, retried with
backoff; files are re-read as they are), find the sessions in the data after the run's last
day, and continue the run over them one day per update, in order, from its checkpoint
(``engine.workflows.update``: each day stored as a new run, equal to a run in one go). The tracked
entry then points at the newest run and the weights decided at its last close are written as
the signal for the next session (``engine.workflows.signals``).

Never needs a hand:
- only days that are in the data are processed: a holiday or a provider that is late is waited
  for (the next evening catches up), never invented;
- run twice the same evening, the second finds nothing new: "up to date", nothing written;
- a kill at any moment leaves the stored runs as they were (each run is stored atomically, the
  tracked file and the signals are replaced atomically); the next ``daily`` continues from the
  newest run the tracked file names;
- one lock (``<runs>/.daily.lock``, an flock the kernel drops when the process dies): a second
  ``daily`` while one works says so and exits 0 without working;
- a run that fails is logged and reported (exit 1); the other tracked runs still proceed;
- data whose past changed (an adjusted-close file after a new dividend, a price Yahoo corrected)
  are refused with one line naming the first differing day and how to start again (exit 2):
  a tracked run continues only the very data it was computed on. ``yahoo:`` data never do
  this on a dividend or split: the cache keeps raw closes and events (``feeds.yahoo``).

One line per tracked run per evening goes to ``<runs>/daily.log``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.pipeline.checkpoint import PastChanged
from engine.pipeline.exits import BAD_INPUT, FAILED, OK
from engine.store import tracking, writes
from engine.store.run_store import RunStore
from engine.workflows import signals
from engine.workflows.update import update_run
from feeds.errors import InputError
from feeds.sources import DataSpec, load_bars

LOCK = ".daily.lock"
LOG = "daily.log"
RETRIES = 3  # a fetch is tried 1 + RETRIES times, waiting BACKOFF_S, 2x, 4x ... between
BACKOFF_S = 30.0


@dataclass
class Outcome:
    """What ``daily`` did for one tracked run: ``status`` up-to-date | updated | failed | would-update."""

    name: str
    status: str
    message: str
    days: list[str] = field(default_factory=list)
    signal: Path | None = None


@dataclass
class Report:
    """All tracked runs of one evening; ``exit_code`` 0 all fine, 1 a run failed, 2 bad input."""

    outcomes: list[Outcome]
    locked: bool = False

    @property
    def exit_code(self) -> int:
        if any(o.status == "bad-input" for o in self.outcomes):
            return BAD_INPUT
        return FAILED if any(o.status == "failed" for o in self.outcomes) else OK


def refresh(
    data: str,
    cache_dir: Path | None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    fetch: Callable[[str, Path], object] | None = None,
) -> None:
    """Refresh ``data`` before an update: ``yahoo:`` tickers through the cache (retried with backoff).

    A fetch still failing after the retries raises ``OSError`` naming the ticker; files need nothing.
    """
    spec = DataSpec.parse(data)
    if spec.scheme != "yahoo":
        return
    if cache_dir is None:
        raise InputError("yahoo: data needs a cache directory (--cache-dir or STOCKRNN_CACHE_DIR)")
    if fetch is None:
        from feeds.yahoo import fetch as yahoo_fetch

        fetch = yahoo_fetch
    for ticker in (t.strip() for t in spec.target.split(",") if t.strip()):
        for attempt in range(RETRIES + 1):
            try:
                fetch(ticker, cache_dir)
                break
            except InputError:
                raise
            except Exception as exc:  # the network's errors are many; each is retried the same way
                if attempt == RETRIES:
                    raise OSError(f"fetch of {ticker} failed {RETRIES + 1} times: {exc}") from exc
                sleep(BACKOFF_S * 2**attempt)


def new_days(data: str, last: str, end: str | None, cache_dir: Path | None) -> list[str]:
    """The dates in ``data`` after ``last`` (and up to ``end``, when the run has one), oldest first."""
    dates = load_bars(DataSpec.parse(data), cache_dir=cache_dir)["date"].unique().sort()
    out = [d.isoformat() for d in dates.to_list() if d.isoformat() > last]
    return [d for d in out if end is None or d <= end]


def past_changed(entry: tracking.Tracked, run_id: str, first_day: str | None) -> str:
    """One line: the tracked run's data changed before its last day, where, and what to do."""
    where = f"first on {first_day}" if first_day else "the first differing day is not recorded (older run)"
    hint = (
        "a data correction by Yahoo (`backtest data fetch` reported it)"
        if DataSpec.parse(entry.data).scheme == "yahoo"
        else "an adjusted-close file rescaled by a new dividend or split, or revised prices"
    )
    return (
        f"the data of run {run_id} ({entry.data}) changed in the past, {where} ({hint}); start again: "
        f"`backtest run` over the new data, then `backtest track NEW_RUN --name {entry.name}` "
        "(yahoo:TICKER data keep raw closes with dividend and split events, so their past does not change)"
    )


def _last_day(store: RunStore, run_id: str) -> tuple[str, str | None]:
    info, payload = store.load_metrics(run_id)
    config = info.manifest.get("config") or {}
    return str(payload["period"]["end"]), config.get("end")


def _one(
    store: RunStore,
    entry: tracking.Tracked,
    *,
    cache_dir: Path | None,
    dry_run: bool,
    sleep: Callable[[float], None],
    fetch: Callable[[str, Path], object] | None,
    plugins: tuple[str, ...] = (),
    headline_models: tuple[str, ...] = (),
) -> Outcome:
    last, _ = _last_day(store, entry.run_id)
    if not dry_run:
        refresh(entry.data, cache_dir, sleep=sleep, fetch=fetch)
    days = new_days(entry.data, last, None, cache_dir)
    if not days:
        return Outcome(
            entry.name, "up-to-date", f"{entry.name}: up to date (last day {last}, run {entry.run_id})"
        )
    if dry_run:
        return Outcome(
            entry.name,
            "would-update",
            f"{entry.name}: would continue run {entry.run_id} over {len(days)} day(s) {days[0]}..{days[-1]}",
            days,
        )
    run_id = entry.run_id
    for day in days:
        try:
            result, _ = update_run(
                store,
                run_id,
                data=entry.data,
                end=dt.date.fromisoformat(day),
                cache_dir=cache_dir,
                # named on this command line, never taken from tracked.json (a file on disk)
                plugins=plugins,
                headline_models=headline_models,
            )
        except PastChanged as exc:
            raise InputError(past_changed(entry, run_id, exc.first_day)) from None
        if result is None:  # the data hold the day but the run's strategies had nothing new
            continue
        run_id = result.run_id
        # the day's signal, then the pointer: a kill between them redoes the day, never skips it
        signal = signals.signal_of(store, run_id, entry.name)
        path = signals.write(store.root, signal)
        tracked = tracking.load(store.root)
        tracked[entry.name] = tracking.Tracked(entry.name, run_id, entry.data, entry.plugins)
        tracking.save(store.root, tracked)
    if run_id == entry.run_id:
        return Outcome(entry.name, "up-to-date", f"{entry.name}: up to date (run {run_id})")
    return Outcome(
        entry.name,
        "updated",
        f"{entry.name}: {len(days)} day(s) {days[0]}..{days[-1]} -> run {run_id}; "
        f"signal for {signal.applies_to}",
        days,
        path,
    )


def daily(
    runs_dir: Path,
    *,
    cache_dir: Path | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    fetch: Callable[[str, Path], object] | None = None,
    log: Callable[[str], None] | None = None,
    plugins: tuple[str, ...] = (),
    headline_models: tuple[str, ...] = (),
) -> Report:
    """Bring every tracked run of ``runs_dir`` up to date (see the module docstring).

    ``plugins`` / ``headline_models``: the plugins and headline models of the tracked runs, named
    on this command line (``--plugin``, ``--headline-model``): ``tracked.json`` and the run folders
    are files on disk and never make this program import code or load a model by themselves.

    ``sleep`` and ``fetch`` are the clock and the network (tests pass stubs); ``log`` gets each line.
    """
    store = RunStore(Path(runs_dir))
    try:
        store.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{store.root}: cannot create the runs directory ({exc.strerror})") from None
    fd = writes.open_no_follow(store.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644, root=store.root)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return Report([], locked=True)
        outcomes = []
        for entry in tracking.load(store.root).values():
            try:
                outcome = _one(
                    store,
                    entry,
                    cache_dir=cache_dir,
                    dry_run=dry_run,
                    sleep=sleep,
                    fetch=fetch,
                    plugins=plugins,
                    headline_models=headline_models,
                )
            except InputError as exc:
                outcome = Outcome(entry.name, "bad-input", f"{entry.name}: {exc}")
            except Exception as exc:  # one run's failure must not stop the others
                outcome = Outcome(entry.name, "failed", f"{entry.name}: failed: {type(exc).__name__}: {exc}")
            outcomes.append(outcome)
            if log is not None:
                log(outcome.message)
            if not dry_run:
                _append_log(store.root, outcome)
        return Report(outcomes)
    finally:
        os.close(fd)


def _append_log(root: Path, outcome: Outcome) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with (root / LOG).open("a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {outcome.status} {outcome.message}\n")
