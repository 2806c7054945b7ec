"""Command-line options turned into the engine's inputs: settings, seeds, strategy specs, a RunConfig.

Every problem is an ``InputError`` naming the option (exit code 2, one line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from feeds.errors import InputError


def resolve_settings(runs_dir: Path | None = None, cache_dir: Path | None = None):  # noqa: ANN201
    """The runs and cache directories: the options, else the environment, else the defaults."""
    from engine.config.settings import Settings

    return Settings.resolve(runs_dir=runs_dir, cache_dir=cache_dir)


def parse_seeds(seeds: int | None, seed_list: str | None) -> tuple[int, ...]:
    """The seeds of ``--seeds N`` (0..N-1) or ``--seed-list``; the config's default without either."""
    from engine.config.run_config import DEFAULT_SEEDS

    if seeds is not None and seed_list is not None:
        raise InputError("give either --seeds N or --seed-list, not both")
    if seed_list is not None:
        try:
            values = tuple(int(s) for s in seed_list.replace(" ", "").split(",") if s)
        except ValueError:
            raise InputError(f"--seed-list {seed_list!r}: expected integers separated by commas") from None
        if not values:
            raise InputError("--seed-list is empty")
        return values
    return tuple(range(seeds)) if seeds is not None else DEFAULT_SEEDS


def strategy_specs(names: list[str], params: list[str], base: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """StrategySpecs from --strategy names and --param assignments (over ``base`` specs' params)."""
    from engine.config.run_config import StrategySpec
    from strategies.params import parse_assignments
    from strategies.registry import resolve

    classes = {name: resolve(name) for name in names}
    values: dict[str, dict[str, Any]] = {name: {} for name in names}
    for spec in base:
        values.setdefault(spec.name, {}).update(spec.params)
    for owner, key, value in parse_assignments(params):
        if owner is not None:
            if owner not in values:
                raise InputError(
                    f"--param {owner}.{key}: strategy {owner!r} is not among --strategy {', '.join(names)}"
                )
            values[owner][key] = value
            continue
        takers = [n for n, cls in classes.items() if key in cls.Params.model_fields]
        if not takers:
            from strategies.params import suggestion

            raise InputError(
                f"--param {key}: none of the strategies ({', '.join(names)}) has a parameter {key!r}"
                + suggestion(key, [cls.Params for cls in classes.values()])
            )
        for name in takers:
            values[name][key] = value
    return tuple(StrategySpec(name=n, params=values[n]) for n in names)


def run_config(**kwargs: Any) -> Any:
    """A RunConfig of ``kwargs``; its first validation error as an InputError naming the field."""
    from pydantic import ValidationError

    from engine.config.run_config import RunConfig

    try:
        return RunConfig(**kwargs)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:] if message.startswith("Input ") else message
        if not first["loc"]:  # the model's own check, e.g. "start ... is not before end ..."
            raise InputError(message) from None
        field = ".".join(str(p) for p in first["loc"])
        if message.startswith((f"{field} ", field.replace("_", " ") + " ", f"--{field.replace('_', '-')} ")):
            raise InputError(message) from None  # the message names the field (and its value) itself
        value = first.get("input")
        shown = f" {value}" if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
        raise InputError(f"{field}{shown}: {message}") from None


def cli_flags() -> dict[str, str]:
    """``backtest run``'s option for each RunConfig field it offers (``execution_lag`` -> ``--lag``)."""
    from engine.config.fields import settings

    return {s.name: s.cli for s in settings() if s.cli}


@contextmanager
def options_named(ctx: typer.Context) -> Iterator[None]:
    """Errors that name a RunConfig field name the option the user typed instead (issue 29).

    ``execution_lag 9: input should be ...`` becomes ``--lag 9: ...``; only for options given
    on the command line: a field set by a ``--config`` file keeps the name written in the file.
    """
    try:
        yield
    except InputError as exc:
        text = str(exc)
        for field, flag in sorted(cli_flags().items(), key=lambda item: -len(item[0])):
            if text.startswith((f"{field}:", f"{field} ")) and _given(ctx, field):
                raise InputError(flag + text[len(field) :]) from None
        raise


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    # compared by name: typer may bring its own copy of click's ParameterSource enum
    return source is not None and source.name == "COMMANDLINE"


def config_with_file(
    ctx: typer.Context,
    path: Path,
    fields: dict[str, Any],
    names: list[str],
    params: list[str],
    plugins: tuple[str, ...] = (),
) -> Any:
    """The config of ``--config FILE``, with the options given on the command line on top.

    ``fields``: RunConfig values of the options; an option sets its field (and ``--seeds`` or
    ``--seed-list`` the seeds) only when it was given on the command line.
    A plugin or headline model that the file names is refused unless this command names it again
    (``plugins``: ``--plugin`` values; ``--strategy`` and ``--headline-model`` count too).
    """
    from engine.config.files import load_run_config
    from engine.config.trust import check_config

    base = load_run_config(path)
    values = base.model_dump()
    options = {name: (name,) for name in fields if name != "seeds"} | {"seeds": ("seeds", "seed_list")}
    values.update({f: fields[f] for f, names_ in options.items() if any(_given(ctx, o) for o in names_)})
    plugins = (*plugins, *names)
    models = (fields["headline_model"],) if _given(ctx, "headline_model") else ()
    if names:
        values["strategies"] = strategy_specs(names, params)
    elif params:
        # the file's checked first: resolving its strategies' parameters would import them
        check_config(base, f"config file {path}", plugins=plugins, headline_models=models)
        values["strategies"] = strategy_specs([s.name for s in base.strategies], params, base=base.strategies)
    # what the file names runs only when named again here (--plugin, --strategy, --headline-model)
    return check_config(run_config(**values), f"config file {path}", plugins=plugins, headline_models=models)


def run_options_config(ctx: typer.Context, options: dict[str, Any], config_options: dict[str, Any]) -> Any:
    """The RunConfig of ``backtest run``'s options.

    ``options``: the options the command spells itself (config_file, strategy, seeds,
    seed_list, param); ``config_options``: those derived from the RunConfig fields
    (engine.cli.config_options), by field name.
    """
    from engine.cli.config_options import config_values
    from engine.config.run_config import DEFAULT_STRATEGIES

    o = options
    fields = {**config_values(config_options), "seeds": parse_seeds(o["seeds"], o["seed_list"])}
    names, params = list(o["strategy"] or []), list(o["param"] or [])
    if params and not names and o["config_file"] is None:
        # --param without --strategy: the parameters of the frequency's default strategy (issue 29)
        names = list(DEFAULT_STRATEGIES[str(fields.get("frequency") or "daily")])
    if o["config_file"] is not None:
        return config_with_file(ctx, o["config_file"], fields, names, params, tuple(o.get("plugin") or ()))
    return run_config(**fields, strategies=strategy_specs(names, params))
