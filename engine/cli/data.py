"""``backtest data``: market data fetched from Yahoo into the cache, cached tickers, a source's dates."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from engine.cli.console import err, out
from engine.cli.inputs import resolve_settings
from engine.cli.options import CacheDirOpt, DataOpt
from feeds.errors import InputError

data_app = typer.Typer(
    help="Market data: fetch from Yahoo into the cache, inspect sources.", no_args_is_help=True
)


@data_app.command("fetch")
def data_fetch(
    tickers: Annotated[list[str], typer.Argument(help="Yahoo symbols, e.g. SPY ^GSPC AAPL")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Download daily bars from Yahoo into the cache (incremental refresh); runs read yahoo:TICKER."""
    from feeds import yahoo

    settings = resolve_settings(cache_dir=cache_dir)
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
        out.print(
            f"{report.ticker}: {mode}, {report.rows} days {report.first}..{report.last} "
            f"(+{report.added}) -> {report.path}"
        )
    if failures:
        raise typer.Exit(2)


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
