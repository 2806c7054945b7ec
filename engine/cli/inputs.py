"""Command-line options turned into the engine's inputs: settings, seeds, strategy specs, a RunConfig.

Every problem is an ``InputError`` naming the option (exit code 2, one line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from feeds.errors import InputError


def parse_cash_rate(text: str) -> float | str:
    """--cash-rate: a number stays a number, anything else (csv:PATH) is checked by the config."""
    from feeds.cash import check_rate

    try:
        value = float(text)
    except ValueError:
        return text.strip()
    check_rate(value, "--cash-rate")
    return value


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
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise InputError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None


# `run` options -> the RunConfig fields they set (for --config FILE with options on top)
_OVERRIDES = {
    "data": ("data",), "tickers": ("ticker",), "seeds": ("seeds", "seed_list"), "start": ("start",),
    "end": ("end",), "frequency": ("frequency",), "cost_bps": ("cost_bps",),
    "slippage_bps": ("slippage_bps",), "execution_lag": ("lag",), "headlines": ("headlines",),
    "headline_model": ("headline_model",), "headline_date_only": ("date_only_same_day",),
    "headline_column": ("headline_column",), "time_column": ("time_column",), "timezone": ("timezone",),
    "universe": ("universe",), "dividends": ("dividends",), "cash_rate": ("cash_rate",),
    "device": ("device",),
}  # fmt: skip


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

    A plugin or headline model that the file names is refused unless this command names it again
    (``plugins``: ``--plugin`` values; ``--strategy`` and ``--headline-model`` count too).
    """
    from engine.config.files import load_run_config
    from engine.config.trust import check_config

    base = load_run_config(path)
    values = base.model_dump()
    values.update({f: fields[f] for f, options in _OVERRIDES.items() if any(_given(ctx, o) for o in options)})
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


def run_options_config(ctx: typer.Context, options: dict[str, Any]) -> Any:
    """The RunConfig of ``backtest run``'s options (``options``: the command's arguments by name)."""
    o = options
    start, end = o["start"], o["end"]
    fields = dict(
        data=o["data"],
        tickers=tuple(o["ticker"] or ()),
        seeds=parse_seeds(o["seeds"], o["seed_list"]),
        start=start.date() if start else None,
        end=end.date() if end else None,
        frequency=o["frequency"],
        cost_bps=o["cost_bps"],
        slippage_bps=o["slippage_bps"],
        execution_lag=o["lag"],
        headlines=o["headlines"],
        headline_model=o["headline_model"],
        headline_date_only="same" if o["date_only_same_day"] else "next",
        universe=o["universe"],
        dividends=o["dividends"],
        cash_rate=parse_cash_rate(o["cash_rate"]),
        headline_column=o["headline_column"],
        time_column=o["time_column"],
        timezone=o["timezone"],
        device=o["device"],
    )
    names, params = list(o["strategy"] or []), list(o["param"] or [])
    if params and not names and o["config_file"] is None:
        from engine.config.run_config import DEFAULT_STRATEGIES

        # --param without --strategy: the parameters of the default strategy (issue 29)
        frequency = getattr(o["frequency"], "value", o["frequency"]) or "daily"
        names = list(DEFAULT_STRATEGIES[str(frequency)])
    if o["config_file"] is not None:
        return config_with_file(ctx, o["config_file"], fields, names, params, tuple(o.get("plugin") or ()))
    if not names and params:
        # --param without --strategy sets the parameters of the frequency's default strategies
        from engine.config.run_config import DEFAULT_STRATEGIES

        names = list(DEFAULT_STRATEGIES[str(o["frequency"] or "daily")])
    return run_config(**fields, strategies=strategy_specs(names, params))
