"""Commands that read stored runs: ``runs`` (list, prune), ``show``, ``compare``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from engine.api import parse_result, store_writes
from engine.cli.console import err, out
from engine.cli.inputs import resolve_settings
from engine.cli.options import JsonOpt, RunsDirOpt
from feeds.errors import InputError

WideOpt = Annotated[
    bool, typer.Option("--wide", help="every column, whatever the terminal's width (default: fit it)")
]


def runs(
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="remove broken runs and .partial leftovers of killed runs (asks first)"),
    ] = False,
    older_than: Annotated[
        float,
        typer.Option(
            "--older-than", min=0, help="with --prune: only leftovers untouched for this many hours"
        ),
    ] = 24.0,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="with --prune: do not ask")] = False,
    wide: WideOpt = False,
) -> None:
    """List stored runs with their status and key figures (--prune: clean up leftovers)."""
    from engine.api import RunStore
    from engine.cli.report import fit, runs_table

    settings = resolve_settings(runs_dir)
    store = RunStore(settings.runs_dir)
    if prune:
        _prune(store, older_than, yes)
        return
    infos = store.list()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "run_id": i.run_id,
                        "status": i.status,
                        "error": i.error,
                        "path": str(i.path),
                        "created": i.created,
                        **i.manifest.get("headline", {}),
                    }
                    for i in infos
                ],
                indent=2,
            )
        )
        return
    if not infos:
        out.print(f"no runs in {settings.runs_dir}")
        return
    out.print(fit(runs_table(infos), out, ("B&H", "period", "CAGR (1st)"), wide=wide), crop=False)


def _prune(store: Any, older_than: float, yes: bool) -> None:
    candidates = store.prunable(older_than)
    if not candidates:
        out.print(f"nothing to prune in {store.root} (leftovers older than {older_than:g} h, broken runs)")
        return
    for info in candidates:
        out.print(f"{info.status:10} {info.path}  [dim]{info.error}[/dim]", highlight=False)
    if not yes and not typer.confirm(f"remove these {len(candidates)} folder(s)?", default=False):
        out.print("nothing removed")
        return
    removed = store.prune(candidates)
    out.print(f"removed {len(removed)} folder(s) from {store.root}")


def show(
    run_id: Annotated[str, typer.Argument(help="run id, unique prefix, or 'latest'")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="also write the run's tearsheet here (one self-contained HTML file)"),
    ] = None,
    as_config: Annotated[
        bool,
        typer.Option("--config", help="print the run's config as a TOML file for `backtest run --config`"),
    ] = False,
    wide: WideOpt = False,
) -> None:
    """Print one stored run: the same tables as `backtest run` printed."""
    from engine.api import RunStore
    from engine.cli.report import render_run

    store = RunStore(resolve_settings(runs_dir).runs_dir)
    if as_config:
        from engine.config.files import dump_run_config

        info = store.find(run_id)
        if "config" not in info.manifest:
            raise InputError(f"run {info.run_id}: its manifest has no config ({info.status})")
        data = info.manifest.get("data", {})
        header = [
            f"run {info.run_id} ({info.status}, {info.created}); rerun: backtest run --config FILE",
            f"data {data.get('spec')}: {data.get('first')}..{data.get('last')}, {data.get('days')} days, "
            f"fingerprint {data.get('fingerprint')}",
        ]
        sys.stdout.write(dump_run_config(info.manifest["config"], header))
        return
    info, payload = store.load_metrics(run_id)  # the JSON form: --json prints it as stored
    if html is not None:
        from engine.api import run_notes
        from engine.dashboard.tearsheet import tearsheet_html

        page = tearsheet_html(
            parse_result(payload),
            store.load_equity(info.run_id),
            store.load_weights(info.run_id),
            label=run_notes.read(info.path)["label"],
            json_form=payload,
        )
        try:
            # atomic (temp file + rename): a full disk leaves no half-written page at the user's path
            store_writes.write_text(html, page)
        except InputError as exc:
            raise InputError(f"--html: {exc}") from None
        err.print(f"tearsheet written to {html}")
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        render_run(parse_result(payload), out, wide=wide)


def compare(
    run_ids: Annotated[list[str], typer.Argument(help="two or more run ids (or prefixes)")],
    runs_dir: RunsDirOpt = None,
    as_json: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Set stored runs side by side: key figures and per-year yields."""
    from engine.api import RunStore
    from engine.cli.report import basis_lines, compare_table, compare_yearly_table, fit

    if len(run_ids) < 2:
        raise InputError(
            f"compare needs two or more runs (got {len(run_ids)}): backtest compare RUN1 RUN2 ..."
        )
    store = RunStore(resolve_settings(runs_dir).runs_dir)
    if len(run_ids) < 2:
        raise InputError("compare needs two or more runs (got one); `backtest show RUN` prints one")
    payloads = [store.load_metrics(r)[1] for r in run_ids]
    if as_json:
        print(json.dumps(payloads, indent=2))
        return
    results = [parse_result(p) for p in payloads]
    out.print(
        fit(compare_table(results), out, ("costs", "± std", "Sharpe", "max DD", "period"), wide=wide),
        crop=False,
    )
    for line in basis_lines(results):
        out.print(f"[dim]{line}[/dim]", highlight=False, soft_wrap=True)
    out.print(fit(compare_yearly_table(results), out, wide=wide), crop=False)
    for line in basis_lines(results):
        out.print(f"[dim]{line}[/dim]", highlight=False, soft_wrap=True)
