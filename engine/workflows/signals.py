"""Tomorrow's signal: the target weights a run decided at its last close, and the session they apply to.

A weight decided at day t's close is held from the next XNYS session on (the engine's timing
convention, ``engine.pipeline.timing``); a stateful model's weights depend on every day before t, so the
signal names the run (and so the checkpoint) that produced it. Written as
``<runs>/signals/<name>/<decided>.json`` and ``.csv`` (atomic), read back by ``backtest signal``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.store import writes
from engine.store.run_store import RunStore, write_json_atomic
from feeds.errors import InputError
from feeds.exchange_calendar import session_table

FOLDER = "signals"


@dataclass(frozen=True)
class Signal:
    """``weights``: strategy -> {"seed_mean"|"ensemble"|member: {ticker: weight}}, fractions of equity."""

    name: str
    run_id: str
    decided: str  # the close the weights were decided at (YYYY-MM-DD)
    applies_to: str  # the next XNYS session, when they are held
    weights: dict[str, dict[str, dict[str, float]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_id": self.run_id,
            "checkpoint": f"{self.run_id}/checkpoint",
            "decided_at_close": self.decided,
            "applies_to_session": self.applies_to,
            "weights": self.weights,
        }


def next_session(day: dt.date) -> dt.date:
    """The first XNYS session after ``day`` (a weekday past the calendar's range)."""
    sessions = session_table().sessions
    d = np.datetime64(day, "D")
    i = int(np.searchsorted(sessions, d, side="right"))
    if i < len(sessions):
        return sessions[i].astype(dt.date)
    return np.busday_offset(d, 1, roll="forward").astype(dt.date)


def signal_of(store: RunStore, run_id: str, name: str) -> Signal:
    """The weights ``run_id`` decided at its last close, per strategy: each member, seed mean, ensemble."""
    frame = store.load_weights(run_id).filter(pl.col("role") == "strategy")
    if frame.height == 0:
        raise InputError(f"run {run_id} has no strategy weights")
    last = frame["date"].max()
    today = frame.filter(pl.col("date") == last)
    weights: dict[str, dict[str, dict[str, float]]] = {}
    for strategy in sorted(today["strategy"].unique().to_list()):
        rows = today.filter(pl.col("strategy") == strategy)
        per: dict[str, dict[str, float]] = {}
        for member in sorted(rows["member"].unique().to_list()):
            part = rows.filter(pl.col("member") == member).sort("ticker")
            per[str(member)] = dict(zip(part["ticker"].to_list(), part["weight"].to_list(), strict=True))
        seeds = [m for m in per if m.isdigit()]
        if len(seeds) > 1:
            tickers = sorted({t for m in seeds for t in per[m]})
            per["seed_mean"] = {t: float(np.mean([per[m].get(t, 0.0) for m in seeds])) for t in tickers}
        weights[strategy] = per
    decided = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last)[:10])
    return Signal(name, run_id, decided.isoformat(), next_session(decided).isoformat(), weights)


def write(runs_dir: Path, signal: Signal) -> Path:
    """Write the signal's JSON and CSV under ``signals/<name>/`` (atomic); returns the JSON's path."""
    root = Path(runs_dir)
    folder = writes.make_dirs(root / FOLDER / signal.name, root)
    path = folder / f"{signal.decided}.json"
    rows = [
        f"{signal.decided},{signal.applies_to},{strategy},{member},{ticker},{weight!r}"
        for strategy, per in signal.weights.items()
        for member, tickers in per.items()
        for ticker, weight in tickers.items()
    ]
    csv = folder / f"{signal.decided}.csv"
    writes.write_text(
        csv,
        "decided_at_close,applies_to_session,strategy,member,ticker,weight\n" + "\n".join(rows) + "\n",
        root=root,
    )
    write_json_atomic(path, signal.to_dict(), root=root)
    return path


def read(runs_dir: Path, name: str, day: str | None = None) -> dict[str, Any]:
    """A written signal of tracked run ``name``: the one decided on ``day`` (YYYY-MM-DD), or the newest."""
    folder = Path(runs_dir) / FOLDER / name
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise InputError(f"no signal written for {name!r} yet (backtest daily writes them)")
    if day is None:
        path = files[-1]
    else:
        path = folder / f"{day}.json"
        if not path.is_file():
            raise InputError(
                f"no signal of {name!r} decided on {day} (have {files[0].stem} .. {files[-1].stem})"
            )
    if path.stat().st_size > 64 << 20:
        raise InputError(f"{path}: too large for a signal file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a signal file ({exc})") from None
