"""A sweep's spec and its grid: the spec file read and checked, the cells it expands to, their keys.

A sweep spec (TOML or YAML) names the grid::

    name = "loss-ablation"          # the sweep id (default: the file's stem)
    data = "sample"                 # or a list: one axis of the grid
    seeds = 10                      # number of seeds (0..N-1) or a list; every cell runs them all, batched
    cost_bps = 5.0
    cash_rate = 0.0                 # or "csv:PATH"; dividends = "reinvest" (engine.pipeline.basis)
    periods = [["1995-01-01", "2022-12-31"]]   # optional axis of [start, end]
    tickers = [["^GSPC"]]                      # optional axis of ticker lists
    headlines = [false, "csv:news.csv"]        # optional axis: off / a source

    [[strategies]]
    name = "lstm-stateful"
    params = { hidden = 32 }                   # fixed
    grid = { loss = ["mse", "linex", "huber"] } # crossed

The spec is validated by :class:`SweepSpec` (every RunConfig field, copied from it;
unknown keys rejected, by name, with a suggestion; strategy parameters checked
against the strategy). Each cell is a :class:`RunConfig` with one strategy; its key is a hash of that
config, so a cell is the same cell whatever the order of the spec. Running the
cells: :mod:`engine.workflows.sweep`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from engine.config.fields import axis_fields, config_class, keyed_fields
from engine.config.files import read_mapping
from engine.config.paths import check_name
from engine.config.run_config import MAX_SEEDS, RunConfig, validate
from feeds.errors import InputError

SpecDict = dict[str, Any]


class SweepStrategy(BaseModel):
    """One ``[[strategies]]`` entry of a sweep: fixed ``params`` crossed with a ``grid`` of values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)


class SweepAxes(BaseModel):
    """A sweep spec's own fields: its name and the axes of the grid (each a list of values).

    The RunConfig fields tagged ``axis`` (data, tickers, strategies, seeds, start/end as
    ``periods``, headlines) are spelled here in their sweep shape; every other RunConfig
    field is copied into :class:`SweepSpec` as it is (type, default, bounds, validators).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    strategies: list[SweepStrategy] = Field(min_length=1)
    data: str | list[str] = "sample"
    seeds: int | list[int] = 10
    periods: list[tuple[dt.date | None, dt.date | None] | None] = Field(default_factory=lambda: [None])
    tickers: list[list[str] | None] = Field(default_factory=lambda: [None])
    headlines: str | bool | list[str | bool | None] | None = None

    @field_validator("headlines")
    @classmethod
    def _headlines(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                raise ValueError("headlines: true is not a source; give csv:PATH (or false for off)")
        return value

    def common(self) -> dict[str, Any]:
        """The RunConfig fields that are the same in every cell."""
        axes, fields = axis_fields(), config_class().model_fields
        return {n: getattr(self, n) for n in type(self).model_fields if n in fields and n not in axes}


def sweep_spec_model(config: type[BaseModel]) -> type[SweepAxes]:
    """The sweep spec model of a run config class: :class:`SweepAxes` plus every non-axis field of it."""
    axes = set(axis_fields())
    copied: dict[str, Any] = {
        name: (field.annotation, copy.copy(field))
        for name, field in config.model_fields.items()
        if name not in axes and name not in SweepAxes.model_fields
    }
    return create_model("SweepSpec", __base__=SweepAxes, __module__=__name__, **copied)


# A sweep spec (see ``engine.workflows.sweep``): every RunConfig field, some of them as axes.
SweepSpec: type[SweepAxes] = sweep_spec_model(RunConfig)


@dataclass(frozen=True)
class Cell:
    key: str  # hash of the config: stable across spec order and runs
    config: RunConfig
    label: str  # human-readable: strategy and the varying values


def load_spec(
    path: Path, *, plugins: tuple[str, ...] = (), headline_models: tuple[str, ...] = ()
) -> SweepAxes:
    """Read and validate a TOML or YAML sweep spec (typed); bad files name the file, key and problem.

    A ``module:Class`` / ``file.py:Class`` strategy or a headline model that the spec names is
    refused unless named again in ``plugins`` / ``headline_models`` (``--plugin`` /
    ``--headline-model``; engine.config.trust), before anything is imported.
    """
    from engine.config.trust import check_spec

    raw = read_mapping(path, "sweep spec")
    raw.setdefault("name", path.stem)
    # the name becomes a file name (<runs>/sweeps/<name>.html) and a claim key
    raw["name"] = check_name(raw["name"], f"sweep spec {path}: sweep name")
    where = f"sweep spec {path}"
    for period in _axis(raw.get("periods", [None])):
        _period(period, str(raw["name"]))  # one clear line for a malformed [start, end], as validate_spec
    # checked before validate_spec, which imports the strategies to check their parameters
    check_spec(validate(SweepSpec, raw, where), where, plugins=plugins, headline_models=headline_models)
    return validate_spec(raw, where)


def validate_spec(spec: SpecDict, where: str = "sweep spec") -> SweepAxes:
    """``spec`` checked against :class:`SweepSpec` (unknown keys named, with a suggestion), typed.

    Strategy parameters (``params`` and ``grid`` names) are checked against each
    strategy's own parameters when the strategy can be loaded; an unknown strategy
    is left to fail as its cells' error.
    """
    from strategies.params import build_params
    from strategies.registry import resolve

    for period in _axis(spec.get("periods", [None])):
        _period(period, str(spec.get("name", "?")))  # one clear line for a malformed [start, end]
    model = validate(SweepSpec, spec, where)
    for i, entry in enumerate(model.strategies):
        try:
            cls = resolve(entry.name)
        except InputError:
            continue
        names = {**entry.params, **{k: v[0] for k, v in entry.grid.items() if v}}
        try:
            build_params(cls.Params, names, entry.name)
        except InputError as exc:
            raise InputError(f"{where}: strategies[{i}]: {exc}") from None
        empty = [k for k, v in entry.grid.items() if not v]
        if empty:
            raise InputError(f"{where}: strategies[{i}].grid.{empty[0]}: an empty list of values")
    return model


def _axis(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _period(value: Any, sweep: str) -> tuple[Any, Any]:
    """A ``periods`` entry: [start, end] (either may be empty), or nothing for all the data."""
    if not value:
        return (None, None)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(f"sweep {sweep}: periods entry {value!r}: expected [start, end]")
    return (value[0] or None, value[1] or None)


def spec_model(spec: SweepAxes | SpecDict) -> SweepAxes:
    """``spec`` as the typed :class:`SweepSpec` (a dict, e.g. built in a notebook, is validated)."""
    if isinstance(spec, SweepAxes):
        return spec
    return validate(SweepSpec, spec, f"sweep {spec.get('name', '?')}")


# Cells a sweep may expand to unless the caller says more (``backtest sweep --max-cells N``):
# expanding is ~0.1 ms and a few KB per cell, running a cell seconds to hours; a spec above
# this is far more often a mistake (an axis crossed by accident) than a plan.
MAX_CELLS = 10_000


def cell_count(spec: SweepAxes | SpecDict) -> int:
    """Cells of the grid, computed from the axes' lengths without expanding them.

    Per strategy the product of its grid's value counts, times the data, periods, tickers and
    headlines axes; summed over strategies. An upper bound of :func:`expand`'s length (cells
    with the same config are merged there). Each cell runs every seed.
    """
    model = spec_model(spec)
    shared = len(_axis(model.data)) * len(model.periods) * len(model.tickers) * len(_axis(model.headlines))
    return sum(math.prod(len(v) for v in entry.grid.values()) * shared for entry in model.strategies)


def check_cell_count(spec: SweepAxes | SpecDict, max_cells: int | None = MAX_CELLS) -> int:
    """The spec's :func:`cell_count`; above ``max_cells``, InputError: one line with the count and the flag.

    ``max_cells`` None: no limit. Also refuses a seed count above the per-run limit before a
    range of that many seeds is built.
    """
    model = spec_model(spec)
    seeds = model.seeds if isinstance(model.seeds, int) else len(model.seeds)
    if seeds > MAX_SEEDS:
        raise InputError(f"sweep {model.name}: seeds: {seeds} seeds; at most {MAX_SEEDS} per cell")
    count = cell_count(model)
    if max_cells is not None and count > max_cells:
        raise InputError(
            f"sweep {model.name}: {count:,} cells (each with {seeds} seed{'s' if seeds != 1 else ''}), "
            f"above the limit of {max_cells:,} cells; check the spec's axes, or pass --max-cells {count} "
            "to expand and run them all"
        )
    return count


def expand(spec: SweepAxes | SpecDict, *, max_cells: int | None = MAX_CELLS) -> list[Cell]:
    """Every cell of the grid, in spec order; duplicates (same config) once.

    The count is checked first (:func:`check_cell_count`, before anything is expanded): above
    ``max_cells`` (default :data:`MAX_CELLS`; None for no limit) it is refused in one line.
    """
    model = spec_model(spec)
    check_cell_count(model, max_cells)
    seeds = tuple(range(model.seeds)) if isinstance(model.seeds, int) else tuple(model.seeds)
    datas = _axis(model.data)
    periods = [tuple(p) if p else (None, None) for p in model.periods]
    ticker_sets = [tuple(t) if t else () for t in model.tickers]
    headline_options = [h or None for h in _axis(model.headlines)]
    common = model.common()
    cells: dict[str, Cell] = {}
    for entry in model.strategies:
        names = list(entry.grid)
        for values in itertools.product(*(entry.grid[n] for n in names)):
            params = {**entry.params, **dict(zip(names, values, strict=True))}
            for data, (start, end), tickers, headlines in itertools.product(
                datas, periods, ticker_sets, headline_options
            ):
                config = validate(
                    RunConfig,
                    {
                        "data": data,
                        "tickers": tickers,
                        "strategies": ({"name": entry.name, "params": params},),
                        "seeds": seeds,
                        "start": start,
                        "end": end,
                        "headlines": headlines,
                        **common,
                    },
                    f"sweep {model.name}: cell {entry.name} {params}",
                )
                varying = [f"{n}={v}" for n, v in zip(names, values, strict=True)]
                varying += [f"data={data}"] if len(datas) > 1 else []
                varying += [f"period={start}..{end}"] if len(periods) > 1 else []
                varying += [f"tickers={','.join(tickers)}"] if len(ticker_sets) > 1 else []
                varying += [f"headlines={'on' if headlines else 'off'}"] if len(headline_options) > 1 else []
                key = cell_key(config)
                cells.setdefault(key, Cell(key, config, " ".join([entry.name, *varying])))
    return list(cells.values())


def cell_key(config: RunConfig) -> str:
    """A cell's identity: hash of its config (fields not tagged ``keyed`` only when not at their default).

    Fields added after sweeps were first stored are not ``keyed``: while at their default they
    leave the key as it was, so cells stored before the field existed keep their keys (a sweep
    resumes instead of recomputing them). ``dividends`` and ``cash_rate`` are keyed on purpose:
    their defaults changed the basis (total return), so cells on the old price-only basis are
    recomputed. The data's fingerprint is checked separately (a cell is done only on the current data).
    """
    data = config.model_dump(mode="json")
    defaults = type(config)().model_dump(mode="json")
    keyed = set(keyed_fields())
    for name in list(data):
        if name not in keyed and data[name] == defaults.get(name):
            data.pop(name)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
