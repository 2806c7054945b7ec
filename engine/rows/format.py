"""Formatting shared by every surface: fractions as percentages, numbers, settings as short text.

Values are fractions (0.1 = 10%) or ``None`` where a figure is undefined or does not
apply; ``NA`` is what an undefined figure shows as.
"""

from __future__ import annotations

from typing import Any

NA = "—"  # a figure that is undefined or does not apply


# --- formatting, shared by every surface ---------------------------------------
def pct(value: float | None, signed: bool = False, digits: int = 2) -> str:
    """A fraction as a percentage (0.1049 -> '10.49%'); '—' when undefined."""
    if value is None:
        return NA
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    """A plain number with ``digits`` decimals; '—' when undefined."""
    return NA if value is None else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 2) -> float | None:
    """A fraction as a rounded percentage number (0.1049 -> 10.49); None stays None."""
    return None if value is None else round(value * 100, digits)


def rounded(value: float | None, digits: int = 2) -> float | None:
    """A number rounded for an interactive table; None stays None."""
    return None if value is None else round(value, digits)


def difference(a: float | None, b: float | None) -> float | None:
    """``a - b``, None when either is undefined."""
    return None if a is None or b is None else a - b


def fmt_value(value: Any) -> str:
    """A setting as short text (floats without trailing zeros, lists comma-joined)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(fmt_value(v) for v in value)
    return str(value)
