"""The run form's values kept across tab switches (session) and page reloads (the address).

Streamlit drops the state of widgets that are not drawn (the Run tab is lazy: another tab
open, or a field hidden by a choice), so the form's values are copied aside on every script
run and each widget's initial value comes from that copy. The values that differ from their
defaults are also written into the page's address (``?cost=7&strategies-daily=[...]``): a
reload, a bookmark or a shared link opens the form as it was left. The address is read
only by a new session, each value parsed as JSON data (never executed) and kept only when it
has the type of the widget's default; anything else falls back to the default.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import streamlit as st

from engine.dashboard.form import DRAWN, form_settings

KEPT = "form-kept"  # widget key -> last value, this session
DEFAULTS = "form-defaults"  # widget key -> the default its widget was drawn with
FROM_URL = "form-url"  # widget key -> the address's text, read once when the session starts
FORM_KEYS = frozenset(
    {"data-source", "frequency", "data-path", "yahoo-tickers", "strategies-daily", "strategies-annual",
     "seeds", "limit-dates", "start", "end", "cost", "headlines", "headline-column", "time-column",
     "timezone", "dividends", "cash-rate", "universe"}
)  # fmt: skip


def is_form_key(key: object) -> bool:
    """Whether a session-state key is one of the run form's widgets (parameters included)."""
    if not isinstance(key, str):
        return False
    more = {s.widget for s in form_settings() if s.name not in DRAWN}
    return key in FORM_KEYS or key.startswith("param-") or key in more


def keep_form_state() -> None:
    """Copy the run form's widget values aside and into the address; call first on every script run.

    At that point the state still holds the values of the last run's widgets; Streamlit removes
    those of widgets this run does not draw only at its end, so the copy survives a hidden tab.
    """
    if KEPT not in st.session_state:  # a new session (first visit, reload, shared link)
        st.session_state[FROM_URL] = {k: v for k, v in st.query_params.items() if is_form_key(k)}
    kept = st.session_state.setdefault(KEPT, {})
    for key in list(st.session_state.keys()):
        if is_form_key(key):
            kept[key] = st.session_state[key]
    _write_address(kept, st.session_state.get(DEFAULTS, {}))


def _write_address(kept: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Values that differ from their widget's default into the address; defaults out of it."""
    for key, value in kept.items():
        if key not in defaults:
            continue  # not drawn yet this session: its default is unknown
        text = None if _same(value, defaults[key]) else encode(value)
        if text is None and key in st.query_params:
            del st.query_params[key]
        elif text is not None and st.query_params.get(key) != text:
            st.query_params[key] = text


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, list | tuple) and isinstance(default, list | tuple):
        return list(value) == list(default)
    return bool(value == default)


def encode(value: Any) -> str:
    """A widget value as address text: strings as typed, dates ISO, the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(list(value) if isinstance(value, tuple) else value, separators=(",", ":"))


def decode(text: str, default: Any, kind: type | None = None) -> Any:
    """Address text as a value of the default's type (``kind`` when the default is None); else default."""
    kind = kind or type(default)
    try:
        if kind is str:
            return text
        if kind is dt.date:
            return dt.date.fromisoformat(text)
        value = json.loads(text)
    except (ValueError, TypeError):
        return default
    if kind is bool:
        return value if isinstance(value, bool) else default
    if kind in (int, float):
        number = isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300
        return kind(value) if number and (kind is float or value == int(value)) else default
    if kind in (list, tuple):
        ok = isinstance(value, list) and all(isinstance(v, str | int | float) for v in value)
        return value if ok else default
    return default


def remembered(key: str, default: Any, kind: type | None = None) -> Any:
    """The value the widget ``key`` had last in this session, else the address's, else ``default``.

    ``kind``: the widget's value type where ``default`` is None (an optional number).
    """
    st.session_state.setdefault(DEFAULTS, {})[key] = default
    kept = st.session_state.get(KEPT, {})
    if key in kept:
        return kept[key]
    text = st.session_state.get(FROM_URL, {}).get(key)
    if text is None or (default is None and kind is None):
        return default
    return decode(text, default, kind)


def index_of(key: str, options: Any, default: Any) -> int:
    """The selectbox/radio index of the remembered choice (the default's when it is no longer offered)."""
    options = list(options)
    value = remembered(key, default)
    return options.index(value if value in options else default)
