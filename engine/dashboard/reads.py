"""What the dashboard reads, cached: the store's listing, stored runs, data spans, the strategy catalog.

Where things live is resolved on every script run (:func:`settings`): the
environment (``$STOCKRNN_RUNS_DIR``, ...) is read as the page runs, not when this
module was first imported. Reads of a run that can change are keyed on the
modification time of the runs directory (:func:`stamp`), so the page stays quick
with hundreds of runs and still sees a run the moment it is published.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from engine.api import COMPLETE, InputError, RunInfo, RunResult, RunStore, parse_result, run_notes, run_reader
from engine.config.settings import Settings
from engine.dashboard.tearsheet import tearsheet_html
from engine.rows import SweepRow, sweep_rows


def settings() -> Settings:
    """Runs and cache directories as the environment says now (engine.config.settings)."""
    return Settings.resolve()


def store() -> RunStore:
    """The store the page shows (InputError when the runs directory is not a directory)."""
    return RunStore(settings().runs_dir)


def runs_root() -> Path:
    """The runs directory the page shows."""
    return store().root


def stamp(path: Path) -> int:
    """Modification time of a folder: changes when a run folder is added, published or removed."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


# a resource, not data: st.cache_data unpickles a copy on every hit (1 MB and ~50 ms for 500 runs,
# on every rerun of the Runs tab); the listing is a tuple of frozen RunInfo that no caller changes
@st.cache_resource(show_spinner=False, max_entries=4)
def list_runs(root: str, stamp: int) -> tuple[RunInfo, ...]:
    """The store's listing; ``stamp`` (the folder's mtime) is the cache key that expires it."""
    return tuple(RunStore(Path(root)).list())


def runs_now() -> tuple[RunInfo, ...]:
    """The store's listing now (cached until the runs directory changes)."""
    root = runs_root()
    return list_runs(str(root), stamp(root))


def complete_run(root: str, run_id: str) -> RunInfo:
    """The listed complete run ``run_id`` (InputError naming it otherwise).

    Taken from the cached listing, not from ``RunStore.load_*``: each of those finds the
    run by listing the whole store again, which with 500 runs cost seconds per opened run.
    The files are still read through the store's checked reader (engine.api (run_reader)).
    """
    info = next((i for i in list_runs(root, stamp(Path(root))) if i.run_id == run_id), None)
    if info is None:
        raise InputError(f"no run {run_id!r} in {root}")
    if info.status != COMPLETE:
        raise InputError(f"run {run_id} is {info.status}" + (f": {info.error}" if info.error else ""))
    return info


def _checked(run_id: str, read: Any) -> Any:
    """``read()``, a damaged file said as the store says it (``run RUN is broken: ...``)."""
    try:
        return read()
    except run_reader.Damaged as exc:
        raise InputError(f"run {run_id} is broken: {exc}") from None


@st.cache_data(show_spinner=False, max_entries=32)
def load_run(root: str, run_id: str) -> tuple[RunResult, pl.DataFrame]:
    """A complete run's typed result and equity frame (immutable once complete: safe to cache)."""
    info = complete_run(root, run_id)
    equity = _checked(run_id, lambda: run_reader.read_frame(info.path, "equity.parquet"))
    return parse_result(run_json(root, run_id)), equity


@st.cache_data(show_spinner=False, max_entries=32)
def run_json(root: str, run_id: str) -> dict[str, Any]:
    """A complete run's JSON form as stored (``metrics.json``): for the downloads, byte for byte."""
    info = complete_run(root, run_id)
    return _checked(run_id, lambda: run_reader.checked_metrics(info.path, info.manifest))


@st.cache_data(show_spinner=False, max_entries=8)
def load_weights(root: str, run_id: str) -> pl.DataFrame:
    """A complete run's weights frame (decision rows)."""
    info = complete_run(root, run_id)
    return _checked(run_id, lambda: run_reader.read_frame(info.path, "weights.parquet"))


@st.cache_data(show_spinner=False, max_entries=8)
def tearsheet(root: str, run_id: str, label: str) -> str:
    """A run's HTML tearsheet (``label``: its saved label, part of the key)."""
    result, equity = load_run(root, run_id)
    weights = load_weights(root, run_id)
    return tearsheet_html(result, equity, weights, label=label, json_form=run_json(root, run_id))


@st.cache_data(show_spinner=False, max_entries=8)
def cached_sweep_rows(root: str, stamp: int, sweep_id: str) -> list[SweepRow]:
    """The rows of ``backtest sweep-report SWEEP`` (``stamp``: the runs directory's mtime)."""

    return sweep_rows(RunStore(Path(root)), sweep_id)


@st.cache_data(show_spinner=False, max_entries=32)
def data_range(spec: str, cache_dir: str, stamp: int) -> tuple[dt.date, dt.date]:
    """First and last day of a data spec (``stamp``: the file's mtime, so an edited file is re-read)."""
    from feeds.sources import DataSpec, load_market

    market = load_market(DataSpec.parse(spec), cache_dir=Path(cache_dir))
    return market.dates[0].astype(object), market.dates[-1].astype(object)


@st.cache_data(show_spinner=False, ttl=300)
def strategy_catalog(plugins_dirs: str) -> dict[str, dict[str, Any]]:
    """Registered strategies -> frequency, summary and parameter fields (plugins included).

    ``plugins_dirs`` (the plugins-dir setting) is part of the cache key: other dirs, other strategies.
    """
    from strategies.registry import entries

    out: dict[str, dict[str, Any]] = {}
    for name, items in entries().items():
        if len(items) != 1:
            continue
        try:
            cls = items[0].load()
        except Exception:  # a broken plugin is listed by `backtest strategies`, not here
            continue
        fields = [
            {
                "name": field_name,
                "annotation": field.annotation,
                "default": field.default,
                "help": field.description or "",
            }
            for field_name, field in cls.Params.model_fields.items()
        ]
        out[name] = {
            "frequency": cls.frequency,
            "summary": cls.summary,
            "stochastic": cls.stochastic,
            "fields": fields,
            "params": cls.Params,
        }
    return out


@st.cache_data(show_spinner=False, max_entries=4)
def run_labels(root: str, stamp: int) -> dict[str, str]:
    """Run id -> label of every labelled run (cleared when a label is saved)."""
    return {
        i.run_id: label
        for i in RunStore(Path(root)).list()
        if i.status == COMPLETE and (label := run_notes.read(i.path)["label"])
    }


def annotation(run_id: str) -> dict[str, str]:
    """A run's label and notes (engine.api (run_notes))."""
    return run_notes.read(runs_root() / run_id)
