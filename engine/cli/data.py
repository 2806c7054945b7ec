"""``backtest data``: market data fetched from Yahoo into the cache, cached tickers, a source's dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from engine.cli.console import err, out
from engine.cli.inputs import resolve_settings
from engine.cli.options import CacheDirOpt, DataOpt, JsonOpt
from feeds.errors import InputError

data_app = typer.Typer(
    help="Market data: fetch from Yahoo into the cache, inspect sources.", no_args_is_help=True
)


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str] | None, typer.Argument(help="Yahoo symbols, e.g. SPY ^GSPC AAPL")] = None,
    cache_dir: CacheDirOpt = None,
    universe: Annotated[
        str | None,
        typer.Option("--universe", help="fetch every member in the range: sp500 (pitindex) or csv:PATH"),
    ] = None,
    start: Annotated[int | None, typer.Option("--start", help="first year of the membership range")] = None,
    end: Annotated[int | None, typer.Option("--end", help="last year of the membership range")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="tickers per download call")] = 50,
) -> None:
    """Download daily bars from Yahoo into the cache (incremental refresh); runs read yahoo:TICKER.

    With --universe: every ticker that was a member in --start..--end, in batches,
    resumable (a second call the same day fetches only what is missing), then the
    coverage per year.
    """
    from feeds import yahoo

    settings = resolve_settings(cache_dir=cache_dir)
    if universe is not None:
        _fetch_universe(universe, start, end, batch_size, settings.cache_dir)
        return
    if not tickers:
        raise InputError("backtest data fetch: name tickers, or --universe sp500|csv:PATH")
    failures = 0
    for ticker in tickers:
        try:
            with err.status(f"fetching {ticker}"):
                report = yahoo.fetch(ticker, settings.cache_dir)
        except InputError as exc:
            err.print(f"error: {exc}")
            failures += 1
            continue
        mode = "full history" if report.full_refresh else "refreshed"
        if report.migrated:
            mode = "full history (the old adjusted-close cache file was replaced by raw closes and events)"
        out.print(
            f"{report.ticker}: {mode}, {report.rows} days {report.first}..{report.last} "
            f"(+{report.added}) -> {report.path}"
        )
        if report.corrections:
            # Yahoo changed days already cached: runs over them differ from before (a tracked run stops)
            err.print(
                f"note: {report.ticker}: Yahoo corrected {len(report.corrections)} cached day(s), "
                f"first {report.corrections[0]}; the new values were taken"
            )
    if failures:
        raise typer.Exit(2)


def _year_range(universe: Any, start: int | None, end: int | None) -> tuple[dt.date, dt.date]:
    lo = dt.date(start, 1, 1) if start else universe.start
    hi = dt.date(end, 12, 31) if end else (universe.end or dt.date.today())
    if lo < universe.start:
        err.print(f"note: membership data of {universe.spec} start {universe.start}; the range starts there")
    return max(lo, universe.start), hi


def _fetch_universe(spec: str, start: int | None, end: int | None, batch_size: int, cache_dir: Path) -> None:
    from feeds import universe_fetch
    from feeds.universe import parse_universe

    universe = parse_universe(spec)
    lo, hi = _year_range(universe, start, end)
    names = universe_fetch.universe_tickers(universe, lo, hi)
    err.print(f"{len(names)} tickers were members of {universe.spec} in {lo}..{hi}")

    def shown(done: int, total: int, report: universe_fetch.UniverseFetchReport) -> None:
        err.print(f"batch {done}/{total}: {len(report.fetched)} fetched, {len(report.failed)} failed")

    first = dt.date(start, 1, 1) if start else dt.date(1900, 1, 1)
    report = universe_fetch.fetch_universe(
        names, cache_dir, start=first, batch_size=batch_size, on_batch=shown
    )
    out.print(
        f"{len(report.fetched)} fetched, {len(report.skipped)} already fetched today, "
        f"{len(report.failed)} failed (Yahoo no longer serves many delisted tickers)"
    )
    for name, reason in sorted(report.failed.items()):
        out.print(f"  failed {name}: {reason.splitlines()[0][:160]}")
    rows = universe_fetch.coverage_by_year(
        universe, universe_fetch.cached_ranges(cache_dir), lo.year, hi.year
    )
    out.print(
        "\n".join(universe_fetch.coverage_report_lines(universe.spec, rows)), highlight=False, soft_wrap=True
    )


@data_app.command("coverage")
def data_coverage(
    universe: Annotated[str, typer.Option("--universe", help="sp500 (pitindex) or csv:PATH")] = "sp500",
    data: Annotated[
        str | None, typer.Option("--data", help="a data spec (default: every ticker in the Yahoo cache)")
    ] = None,
    start: Annotated[int | None, typer.Option("--start", help="first year")] = None,
    end: Annotated[int | None, typer.Option("--end", help="last year")] = None,
    json_out: JsonOpt = False,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Per year: members of the universe at its last weekday, how many have data, which are missing."""
    import json

    from feeds import universe_fetch
    from feeds.sources import DataSpec, load_bars
    from feeds.universe import parse_universe

    settings = resolve_settings(cache_dir=cache_dir)
    parsed = parse_universe(universe)
    if data is None:
        ranges = universe_fetch.cached_ranges(settings.cache_dir)
    else:
        ranges = universe_fetch.bars_ranges(load_bars(DataSpec.parse(data), cache_dir=settings.cache_dir))
    lo, hi = _year_range(parsed, start, end)
    if end is None and ranges:  # not past the data's last day: those years would read as empty
        hi = min(hi, max(b for _, b in ranges.values()))
    rows = universe_fetch.coverage_by_year(parsed, ranges, lo.year, hi.year)
    if json_out:
        out.print_json(json.dumps({"universe": parsed.identity(), "coverage": rows}))
        return
    out.print(
        "\n".join(universe_fetch.coverage_report_lines(parsed.spec, rows)), highlight=False, soft_wrap=True
    )


@data_app.command("panel")
def data_panel(
    path: Annotated[Path, typer.Argument(help="folder of the dataset (replaced atomically)")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Build a year-partitioned Parquet panel of every cached ticker; runs read it with --data panel:PATH."""
    from feeds import panel, yahoo

    settings = resolve_settings(cache_dir=cache_dir)
    panel.build_from_cache(settings.cache_dir, path)
    out.print(f"{len(yahoo.cached_tickers(settings.cache_dir))} tickers -> {path} (--data panel:{path})")


@data_app.command("list")
def data_list(cache_dir: CacheDirOpt = None) -> None:
    """Tickers in the Yahoo cache."""
    from feeds import yahoo

    settings = resolve_settings(cache_dir=cache_dir)
    names = yahoo.cached_tickers(settings.cache_dir)
    out.print("\n".join(names) if names else f"the cache {settings.cache_dir / 'yahoo'} is empty")


@data_app.command("info")
def data_info(data: DataOpt = "sample", cache_dir: CacheDirOpt = None) -> None:
    """Tickers, dates and gaps of a data source."""
    from feeds.sources import DataSpec, load_market

    market = load_market(DataSpec.parse(data), cache_dir=resolve_settings(cache_dir=cache_dir).cache_dir)
    table = Table(
        title=f"{data}: {market.n_days} trading days {market.dates[0]}..{market.dates[-1]}",
        title_justify="left",
    )
    for col in ("ticker", "first", "last", "days", "first close", "last close"):
        table.add_column(col)
    import numpy as np

    for i, name in enumerate(market.tickers):
        rows = np.flatnonzero(~np.isnan(market.close[:, i]))
        table.add_row(
            name,
            str(market.dates[rows[0]]),
            str(market.dates[rows[-1]]),
            str(rows.size),
            f"{market.close[rows[0], i]:.4g}",
            f"{market.close[rows[-1], i]:.4g}",
        )
    out.print(table)
