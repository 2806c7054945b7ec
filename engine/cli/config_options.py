"""``backtest run``'s config options, derived from the RunConfig fields (engine.config.fields).

Typer reads a command's options from its signature, so :func:`with_config_options`
gives the command one option per field (flag, type, default and help text from the
field) in place of its ``**config_options``; :func:`config_values` turns what the
options received back into RunConfig field values. A field added to RunConfig is
an option of ``backtest run`` with no edit here; a field whose option the command
spells itself (``strategies``, ``seeds``) is tagged ``cli: False``.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer

from engine.config.fields import Setting, config_class, settings


def cli_settings() -> list[Setting]:
    """The settings ``backtest run`` offers as options: a class's own fields before inherited ones."""
    order: list[str] = []
    for cls in config_class().__mro__:
        order += [n for n in getattr(cls, "__annotations__", {}) if n not in order]
    by_name = {s.name: s for s in settings()}
    return [by_name[n] for n in order if n in by_name and by_name[n].cli]


def _help(setting: Setting) -> str:
    bounds = setting.bounds_text()
    text = setting.help
    if setting.default is None:
        # "[auto-detected]" closing a description is what None means: said as the default,
        # like every other option's (the description itself is shared with the form and the schema)
        text = re.sub(r"\[(?!default:)([^\]]+)\]$", r"[default: \1]", text)
    return text + (f" ({bounds})" if bounds else "")


def _parameter(setting: Setting) -> inspect.Parameter:
    """The typer option of one setting: its type as the command line gives it, and its default."""
    flag, kind, default = str(setting.cli), setting.kind, setting.default
    option: Any = typer.Option(flag, help=_help(setting))
    annotation: Any
    if setting.extra("flag") is not None:  # two values: the flag selects the other one
        annotation, default = bool, False
    elif kind is tuple:
        element = typing.get_args(setting.field.annotation)[0]
        annotation, default = list[element] | None, None  # type: ignore[valid-type]
    elif kind is dt.date:
        option = typer.Option(flag, formats=["%Y-%m-%d"], help=_help(setting))
        annotation = dt.datetime | None
    elif kind in (int, float, bool):
        annotation = kind | None if setting.optional else kind
    else:  # text: strings, choices, a number or csv:PATH (the field's type parses it)
        annotation = str | None if setting.optional else str
        default = None if default is None else str(default)
    return inspect.Parameter(
        setting.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[annotation, option],
    )


def config_values(values: dict[str, Any]) -> dict[str, Any]:
    """RunConfig field values of the options (``values``: the derived options' arguments by name)."""
    out: dict[str, Any] = {}
    for setting in cli_settings():
        value = values[setting.name]
        selects = setting.extra("flag")
        if selects is not None:
            value = selects if value else setting.default
        elif setting.kind is tuple:
            value = tuple(value or ())
        elif setting.kind is dt.date and value is not None:
            value = value.date()
        out[setting.name] = value
    return out


def with_config_options(after: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command taking ``**config_options`` one typer option per RunConfig field (after ``after``)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(func, eval_str=True)
        fixed = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        at = [p.name for p in fixed].index(after) + 1
        derived = [_parameter(s) for s in cli_settings()]
        keyword = inspect.Parameter.KEYWORD_ONLY  # typer passes every option by name
        parameters = [fixed[0], *(p.replace(kind=keyword) for p in [*fixed[1:at], *derived, *fixed[at:]])]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        signature = inspect.Signature(parameters, return_annotation=own.return_annotation)
        command.__signature__ = signature  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate
