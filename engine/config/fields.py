"""The run settings as the surfaces see them: one :class:`Setting` per RunConfig field.

``backtest run``'s options (engine.cli.config_options), the sweep spec's fields
(engine.config.sweep_spec), the dashboard's run form (engine.dashboard.form), the
sweep cell key and the data a sweep's cells share (engine.workflows.sweep) are all
read from here, so a field added to :class:`~engine.config.run_config.RunConfig`
appears in each of them with no other edit. What a field tells the surfaces beyond
its type, default, bounds and description is listed above ``HeadlineOptions`` in
engine.config.run_config.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from feeds.errors import InputError

_BOUNDS = {
    annotated_types.Ge: "ge",
    annotated_types.Gt: "gt",
    annotated_types.Le: "le",
    annotated_types.Lt: "lt",
}


@dataclass(frozen=True)
class Setting:
    """One RunConfig field: what a surface needs to offer it, read from the field itself."""

    name: str
    field: FieldInfo
    kind: Any  # the value's type without None: str, int, float, bool, dt.date, tuple, or a Union of them
    optional: bool  # None is allowed
    choices: tuple[Any, ...]  # a Literal's values (empty otherwise)
    bounds: dict[str, float]  # ge / gt / le / lt

    @property
    def default(self) -> Any:
        return self.field.get_default(call_default_factory=True)

    @property
    def help(self) -> str:
        return self.field.description or ""

    def extra(self, key: str, default: Any = None) -> Any:
        """One of the field's surface tags (engine.config.run_config lists them)."""
        tags = self.field.json_schema_extra
        return tags.get(key, default) if isinstance(tags, dict) else default

    @property
    def cli(self) -> str | None:
        """The ``backtest run`` flag, or None where the command spells its option itself."""
        flag = self.extra("cli", "--" + self.name.replace("_", "-"))
        return flag or None

    @property
    def widget(self) -> str:
        """The dashboard widget key (its errors are shown under it)."""
        return self.name.replace("_", "-")

    @property
    def label(self) -> str:
        return str(self.extra("label", self.name.replace("_", " ")))

    @property
    def is_text(self) -> bool:
        """Entered as text: strings, and unions (a number or csv:PATH) parsed by the field's type."""
        return self.kind is str or typing.get_origin(self.kind) in (Union, types.UnionType)

    def bounds_text(self) -> str:
        """The bounds as people read them: ``0 <= x <= 10000`` (empty without bounds)."""
        low = next(
            (f"{v:g} {'<=' if k == 'ge' else '<'} " for k, v in self.bounds.items() if k[0] == "g"), ""
        )
        high = next(
            (f" {'<=' if k == 'le' else '<'} {v:g}" for k, v in self.bounds.items() if k[0] == "l"), ""
        )
        return f"{low}x{high}" if low or high else ""


def config_class() -> type[BaseModel]:
    """The run config class (looked up on each call: the one place that names it)."""
    from engine.config import run_config

    return run_config.RunConfig


def settings(model: type[BaseModel] | None = None) -> tuple[Setting, ...]:
    """Every field of the run config (``model``: RunConfig by default), in declaration order."""
    fields = (model or config_class()).model_fields
    return tuple(_setting(name, field) for name, field in fields.items())


def _setting(name: str, field: FieldInfo) -> Setting:
    annotation = field.annotation
    args = typing.get_args(annotation)
    optional = typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in args
    kind = annotation
    if optional:
        rest = tuple(a for a in args if a is not type(None))
        kind = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007 (a runtime Union of the rest)
    choices = typing.get_args(kind) if typing.get_origin(kind) is Literal else ()
    bounds = {key: getattr(m, key) for m in field.metadata for t, key in _BOUNDS.items() if isinstance(m, t)}
    if typing.get_origin(kind) is tuple:
        kind = tuple
    return Setting(name, field, kind, optional, choices, bounds)


def data_fields() -> tuple[str, ...]:
    """The fields the loaded data depend on: sweep cells equal in these share their data."""
    return tuple(s.name for s in settings() if s.extra("data"))


def axis_fields() -> tuple[str, ...]:
    """The fields a sweep spec gives as axes of its grid (the others: one value for every cell)."""
    return tuple(s.name for s in settings() if s.extra("axis"))


def keyed_fields() -> tuple[str, ...]:
    """The fields always in a sweep cell's key (the others only when not at their default)."""
    return tuple(s.name for s in settings() if s.extra("keyed"))


def check_files(config: BaseModel) -> None:
    """Every ``csv:PATH`` / ``parquet:PATH`` of a path field names a file; else one line naming the field.

    Called before any data are loaded (engine.pipeline.prepare), not when a config is
    read: a stored run's config stays readable after its files have moved.
    """
    for setting in settings(type(config)):
        value = getattr(config, setting.name)
        if not setting.extra("path") or not isinstance(value, str):
            continue
        scheme, _, target = value.partition(":")
        if scheme in ("csv", "parquet") and target and not Path(target).expanduser().is_file():
            raise InputError(f"{setting.name} {value}: no such file: {target}")
