"""Nothing read from disk names code that runs, or a model that loads, unless named again now.

A run folder (``rerun``, ``update``, ``track``/``daily``), a config file (``run --config``) and a
sweep spec (``sweep``) are data: they can be copied between machines or planted. A strategy that
one of them names by ``module:Class`` or ``path/file.py:Class`` is imported only when the user
names it again in this command (``--plugin``, or ``--strategy`` where the command has it; the
API's ``plugins=``), and a headline model other than the bundled default is loaded only when
named again (``--headline-model``; ``headline_models=``). Registered names (installed entry
points, ``--plugins-dir``) resolve as usual: the user installed or pointed at that code. File
paths are compared resolved (``./my.py`` and ``/abs/my.py`` are the same file). A headline model
counts only where headlines are read (the model is loaded for nothing else).

Every refusal is one :class:`InputError` line (exit 2) naming the source and what to add.
The check runs before anything is imported or loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from engine.config.run_config import RunConfig
from feeds.errors import InputError

if TYPE_CHECKING:  # the sweep spec imports this module when it is read
    from engine.config.sweep_spec import SweepAxes

# the bundled model's names (feeds.embeddings.resolve_model); anything else is a directory or a hub id
DEFAULT_MODELS = ("default", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def is_code_name(name: str) -> bool:
    """True for ``module:Class`` and ``path/file.py:Class`` (what resolving imports); False for names."""
    return ":" in name


def same_plugin(stored: str, given: str) -> bool:
    """True when ``given`` names the same plugin as ``stored`` (file paths compared resolved)."""
    if stored == given:
        return True
    (s_mod, _, s_cls), (g_mod, _, g_cls) = stored.rpartition(":"), given.rpartition(":")
    if s_cls != g_cls or not _is_file(s_mod) or not _is_file(g_mod):
        return False
    return _resolved(s_mod) == _resolved(g_mod)


def same_model(stored: str, given: str) -> bool:
    """True when ``given`` names the same headline model as ``stored`` (paths compared resolved)."""
    return stored == given or _resolved(stored) == _resolved(given)


def check_names(
    strategies: Iterable[str],
    headline_model: str | None,
    source: str,
    *,
    plugins: Iterable[str] = (),
    headline_models: Iterable[str] = (),
) -> None:
    """Refuse the first plugin or model that ``source`` names and this command did not name again.

    ``headline_model``: the model that would be loaded (None when no headlines are read).
    """
    given, models = tuple(plugins), tuple(headline_models)
    for name in strategies:
        if is_code_name(name) and not any(same_plugin(name, p) for p in given):
            raise InputError(
                f"{source} names the plugin {name!r}, and code named on disk is imported only when named "
                f"again in this command: check that it is code you trust and add --plugin {name}"
            )
    named = headline_model is None or headline_model in DEFAULT_MODELS
    if not named and not any(same_model(str(headline_model), m) for m in models):
        raise InputError(
            f"{source} names the headline model {headline_model!r}, and a model named on disk is "
            f"loaded only when named again in this command: add --headline-model {headline_model}"
        )


def check_config(
    config: RunConfig,
    source: str,
    *,
    plugins: Iterable[str] = (),
    headline_models: Iterable[str] = (),
) -> RunConfig:
    """``config`` (read from ``source``) when everything it names was named again; else InputError."""
    check_names(
        (s.name for s in config.strategies),
        config.headline_model if config.headlines else None,
        source,
        plugins=plugins,
        headline_models=headline_models,
    )
    return config


def check_spec(
    spec: SweepAxes,
    source: str,
    *,
    plugins: Iterable[str] = (),
    headline_models: Iterable[str] = (),
) -> SweepAxes:
    """``spec`` (read from ``source``) when every plugin and model it names was named again."""
    axis = spec.headlines if isinstance(spec.headlines, list) else [spec.headlines]
    check_names(
        (s.name for s in spec.strategies),
        spec.headline_model if any(axis) else None,
        source,
        plugins=plugins,
        headline_models=headline_models,
    )
    return spec


def _is_file(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def _resolved(path: str) -> Path:
    try:
        return Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return Path(path)
