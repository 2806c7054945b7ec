"""``backtest headlines``: a headline source imported and checked; the embedding cache filled, described."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from engine.cli.console import out, progress_bars
from engine.cli.inputs import resolve_settings
from engine.cli.options import (
    CacheDirOpt,
    DataOpt,
    DateOnlyOpt,
    HeadlineColumnOpt,
    HeadlineModelOpt,
    TimeColumnOpt,
    TimezoneOpt,
)

headlines_app = typer.Typer(
    help="News headlines: import and check a source, fill the embedding cache.", no_args_is_help=True
)


def _headline_report(frame: Any, report: Any, rows: Any, dates: Any, label: str) -> None:
    import numpy as np

    for line in report.lines():
        out.print(line)
    if frame.height == 0:
        return
    stamps = frame["published_at"]
    out.print(
        f"published {stamps.min():%Y-%m-%d %H:%M} .. {stamps.max():%Y-%m-%d %H:%M} UTC; "
        f"{int(frame['date_only'].sum())} date-only (used from the next trading day's close unless "
        "--date-only-same-day)"
    )
    assigned = rows >= 0
    days = np.unique(rows[assigned])
    out.print(
        f"aligned to {label} ({dates[0]}..{dates[-1]}): {int(assigned.sum())} headlines on {days.size} of "
        f"{len(dates)} trading days; {int((~assigned).sum())} outside the data's dates"
    )


@headlines_app.command("import")
def headlines_import(
    source: Annotated[
        str, typer.Argument(help="csv:PATH | parquet:PATH | rss:PATH_OR_URL | yahoo-news:TICKER")
    ],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="write cleaned rows with trading_day (.parquet or .csv)")
    ] = None,
    data: DataOpt = "sample",
    date_only_same_day: DateOnlyOpt = False,
    cache_dir: CacheDirOpt = None,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Parse, clean and align headlines to trading days; report what was kept and rejected."""
    from feeds.headline_sources import dump_rows, load_headlines
    from feeds.headlines import assign_trading_days
    from feeds.sources import DataSpec, load_market

    frame, report = load_headlines(
        source, headline_column=headline_column, time_column=time_column, timezone=timezone
    )
    market = load_market(DataSpec.parse(data), cache_dir=resolve_settings(cache_dir=cache_dir).cache_dir)
    rows = assign_trading_days(
        frame["published_at"].to_numpy(),
        frame["date_only"].to_numpy(),
        market.dates,
        date_only_rule="same" if date_only_same_day else "next",
    )
    _headline_report(frame, report, rows, market.dates, data)
    if out_path is not None:
        dump_rows(frame, rows, market.dates, out_path)
        out.print(f"wrote {frame.height} rows to {out_path}")


@headlines_app.command("embed")
def headlines_embed(
    source: Annotated[
        str, typer.Argument(help="csv:PATH | parquet:PATH | rss:PATH_OR_URL | yahoo-news:TICKER")
    ],
    headline_model: HeadlineModelOpt = "default",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="texts per model batch")] = 64,
    cache_dir: CacheDirOpt = None,
    headline_column: HeadlineColumnOpt = None,
    time_column: TimeColumnOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Embed a source's headlines into the cache ahead of time (each text once, ever)."""
    from feeds.embeddings import Embedder
    from feeds.headline_sources import load_headlines

    frame, report = load_headlines(
        source, headline_column=headline_column, time_column=time_column, timezone=timezone
    )
    for line in report.lines():
        out.print(line)
    settings = resolve_settings(cache_dir=cache_dir)
    embedder = Embedder(settings.cache_dir, headline_model, batch_size=batch_size)
    try:
        with progress_bars() as progress:
            _, stats = embedder.embed(
                frame["headline"].to_list(),
                progress=(lambda d, t: progress("embedding", d, t)) if progress else None,
            )
    finally:
        embedder.close()
    out.print(stats.line() + f" -> {settings.cache_dir / 'embeddings.sqlite'}")


@headlines_app.command("info")
def headlines_info(
    source: Annotated[str | None, typer.Argument(help="a headline source to summarize (optional)")] = None,
    data: DataOpt = "sample",
    cache_dir: CacheDirOpt = None,
) -> None:
    """What the embedding cache holds; with SOURCE, also that source's headlines and alignment."""
    from feeds.embeddings import EmbeddingCache

    settings = resolve_settings(cache_dir=cache_dir)
    path = settings.cache_dir / "embeddings.sqlite"
    if path.exists():
        cache = EmbeddingCache(path)
        models = cache.models()
        cache.close()
        for model, dim, count in models:
            out.print(f"cache {path}: {model}: {count} texts x {dim} dims")
        if not models:
            out.print(f"cache {path} is empty")
    else:
        out.print(f"no embedding cache yet at {path}")
    if source:
        headlines_import(source, None, data, False, cache_dir, None, None, None)
