"""Config files: one TOML or YAML file per experiment (``backtest run --config FILE``).

The file holds the fields of :class:`engine.config.run_config.RunConfig` (what ``backtest show
RUN --config`` prints)::

    data = "csv:../shared/data/sp500.csv"
    seeds = [0, 1, 2]
    start = 2008-06-09
    cost_bps = 5.0

    [[strategies]]
    name = "lstm-stateful"
    params = { loss = "linex", grad_mode = "clip" }

Files are parsed with ``tomllib`` / ``yaml.safe_load`` (data only: nothing read can
execute code) and validated by the models themselves, so an unknown key is an
error naming the key and the closest known one. Paths inside (``csv:PATH``) are
relative to the working directory, as on the command line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from engine.config.run_config import HeadlineOptions, RunConfig, validate
from feeds.errors import InputError


def read_mapping(path: Path, what: str) -> dict[str, Any]:
    """The top-level table of a TOML (or ``.yaml``/``.yml``) file; bad files name the file and the problem."""
    if not path.is_file():
        raise InputError(f"{what} {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            loaded = yaml.safe_load(text)
        else:
            loaded = tomllib.loads(text)
    except Exception as exc:  # TOML, YAML and decoding errors alike: one line naming the file
        raise InputError(f"{what} {path}: cannot parse: {_one_line(exc)}") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"{what} {path}: expected a table of keys at the top level")
    return loaded


def load_run_config(path: Path) -> RunConfig:
    """The :class:`RunConfig` of a config file (unknown keys rejected with a suggestion)."""
    return validate(RunConfig, read_mapping(path, "config file"), f"config file {path}")


def dump_run_config(config: dict[str, Any], header: list[str] | None = None) -> str:
    """A TOML config file for a stored config (``RunConfig.model_dump(mode="json")``).

    TOML has no null: fields at None are left out (None is their default). ``header``
    lines become comments at the top.
    """
    values = RunConfig.model_validate(config).model_dump(mode="python", exclude_none=True)
    reading = {name: values.pop(name) for name in HeadlineOptions.model_fields if name in values}
    if "headlines" in values:  # how headlines are read matters only with headlines; listed after them
        values.update(reading)
    strategies = [
        {"name": s["name"], **({"params": s["params"]} if s["params"] else {})}
        for s in values.pop("strategies")
    ]
    values["seeds"] = list(values["seeds"])
    values["tickers"] = list(values["tickers"])
    # strategies last: TOML tables (``[[strategies]]``) must follow the plain keys
    values = {**values, **({"strategies": strategies} if strategies else {})}
    comments = "".join(f"# {line}\n" for line in header or [])
    return comments + tomli_w.dumps(_tomlable(values))


def _tomlable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tomlable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_tomlable(v) for v in value]
    return value


def _one_line(exc: Exception) -> str:
    """A parser's error as one line: YAML's problem and its line and column (its message spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join(str(exc).split())
