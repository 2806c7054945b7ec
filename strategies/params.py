"""Typed strategy parameters: defaults, validation, and friendly errors.

A strategy declares its parameters as a pydantic model (``class Params(StrategyParams)``)
with typed fields, defaults and constraints, e.g.::

    class Params(StrategyParams):
        window: int = Field(200, ge=2, description="moving-average length [trading days]")

Values from the CLI (``--param window=50``) arrive as text and are coerced by pydantic;
unknown names are rejected with a "did you mean ...?" hint.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from feeds.errors import InputError


class StrategyParams(BaseModel):
    """Base class of every strategy's parameters: frozen, unknown names forbidden, floats finite.

    A float parameter refuses nan and inf (``--param threshold=nan`` would otherwise run a strategy
    that never trades); a plugin whose parameter means something at infinity sets
    ``model_config = ConfigDict(..., allow_inf_nan=True)`` on its own model and documents it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


@dataclass(frozen=True)
class ParamInfo:
    """One parameter as shown in ``backtest strategies`` and the dashboard form."""

    name: str
    type: str
    default: Any
    description: str
    constraints: str
    choices: tuple[Any, ...] = ()  # the allowed values of a choice (Literal) parameter
    minimum: float | None = None  # bounds where declared (ge/gt, le/lt)
    maximum: float | None = None


def build_params(model: type[StrategyParams], values: Mapping[str, Any], owner: str) -> StrategyParams:
    """Validate ``values`` against ``model``; :class:`InputError` names the bad parameter."""
    known = list(model.model_fields)
    for key in values:
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            choices = f" (parameters: {', '.join(known)})" if known else " (it takes no parameters)"
            raise InputError(f"strategy {owner}: unknown parameter {key!r}{suggestion}{choices}")
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "?"
        got = err.get("input")
        raise InputError(f"strategy {owner}, parameter {field!r}: {err['msg']} (got {got!r})") from exc


def describe_params(model: type[StrategyParams]) -> list[ParamInfo]:
    """Name, type, default, description and constraints of each parameter."""
    infos = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        choices = (
            tuple(typing.get_args(annotation)) if typing.get_origin(annotation) is typing.Literal else ()
        )
        type_name = (
            "choice"
            if choices
            else getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        )
        lows = [
            getattr(m, a) for m in field.metadata for a in ("ge", "gt") if getattr(m, a, None) is not None
        ]
        highs = [
            getattr(m, a) for m in field.metadata for a in ("le", "lt") if getattr(m, a, None) is not None
        ]
        constraints = ", ".join(
            f"{k} {v}"
            for meta in field.metadata
            for k, v in (
                (op, getattr(meta, attr))
                for op, attr in ((">=", "ge"), (">", "gt"), ("<=", "le"), ("<", "lt"))
                if getattr(meta, attr, None) is not None
            )
        )
        if choices:
            constraints = "one of " + ", ".join(repr(c) for c in choices)
        infos.append(
            ParamInfo(
                name,
                type_name,
                field.default,
                field.description or "",
                constraints,
                choices=choices,
                minimum=float(lows[0]) if lows else None,
                maximum=float(highs[0]) if highs else None,
            )
        )
    return infos


def parse_assignments(items: list[str]) -> list[tuple[str | None, str, str]]:
    """Parse ``--param`` values: ``[strategy.]name=value`` -> (strategy or None, name, value)."""
    parsed = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param {item!r}: expected NAME=VALUE or STRATEGY.NAME=VALUE")
        owner, dot, name = key.strip().rpartition(".")
        parsed.append((owner if dot else None, name, value.strip()))
    return parsed


def suggestion(key: str, models: list[type[StrategyParams]]) -> str:
    """``"; did you mean 'x'?"`` for the closest parameter name of ``models``, or ``""``."""
    known = sorted({name for model in models for name in model.model_fields})
    hint = difflib.get_close_matches(key, known, n=1)
    return f"; did you mean {hint[0]!r}?" if hint else ""
