"""Strategies as plugins: ``strategies`` lists those registered, ``new-strategy`` writes a package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.cli.console import out
from engine.cli.options import JsonOpt
from feeds.errors import InputError


def strategies(as_json: JsonOpt = False) -> None:
    """List available strategies with their parameters and defaults."""
    rows = _strategy_rows()
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    out.print(_strategies_table(rows))


def _strategy_rows() -> list[dict[str, Any]]:
    """One row per registered name (ok, clash or broken), then the plugins skipped at discovery."""
    from strategies.registry import entries, skipped_plugins

    rows = [_entry_row(name, items) for name, items in entries().items()]
    rows.extend({"name": s.target, "status": "skipped", "error": s.reason} for s in skipped_plugins())
    return rows


def _entry_row(name: str, items: list[Any]) -> dict[str, Any]:
    """A strategy's style, frequency, summary and parameters; a clash or a broken plugin said as such."""
    from strategies.params import describe_params

    if len(items) > 1:
        return {
            "name": name,
            "status": "clash",
            "error": "registered by " + ", ".join(f"{e.source} ({e.target})" for e in items),
        }
    entry = items[0]
    try:
        cls = entry.load()
    except InputError as exc:
        return {"name": name, "status": "broken", "source": entry.source, "error": str(exc)}
    style = next(
        b.__name__
        for b in cls.__mro__
        if b.__name__ in ("RuleStrategy", "OnlineStrategy", "WalkForwardStrategy")
    )
    return {
        "name": name,
        "status": "ok",
        "source": entry.source,
        "style": style,
        "frequency": cls.frequency,
        "stochastic": cls.stochastic,
        "summary": cls.summary,
        "params": [
            {
                "name": p.name,
                "type": p.type,
                "default": p.default,
                "description": p.description,
                "constraints": p.constraints,
                "choices": list(p.choices) or None,
                "minimum": p.minimum,
                "maximum": p.maximum,
            }
            for p in describe_params(cls.Params)
        ],
    }


def _strategies_table(rows: list[dict[str, Any]]) -> Table:
    """The rows as a table: parameters with their defaults, one per line."""
    table = Table(title="Strategies", title_justify="left", show_lines=True)
    for col in ("name", "style", "frequency", "parameters (default)", "summary"):
        table.add_column(col)
    for row in rows:
        if row["status"] != "ok":
            table.add_row(row["name"], f"[red]{row['status']}[/red]", "", "", row["error"])
            continue
        params = (
            "\n".join(
                f"{p['name']}={p['default']!r}"
                + (f" ({p['constraints']})" if p["constraints"] else "")
                + (f"  [dim]{p['description']}[/dim]" if p["description"] else "")
                for p in row["params"]
            )
            or "—"
        )
        style = row["style"].removesuffix("Strategy").lower() + (" (seeded)" if row["stochastic"] else "")
        table.add_row(row["name"], style, row["frequency"], params, row["summary"])
    return table


def new_strategy(
    name: Annotated[str, typer.Argument(help="strategy name, e.g. my-momentum")],
    directory: Annotated[Path, typer.Option("--dir", help="where to create the package")] = Path("."),
) -> None:
    """Write a plugin package (pyproject entry point, strategy module, test) to start from."""
    from engine.cli.scaffold import scaffold

    folder = scaffold(name, directory)
    out.print(f"created {folder}")
    out.print(
        f"next: pip install -e {folder} --no-deps && backtest strategies && python -m pytest {folder}/tests"
    )
