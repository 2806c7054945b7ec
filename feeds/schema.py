"""The one schema for daily bars, and its validation.

A bars frame is a polars frame with exactly ``BARS_SCHEMA``, one row per
(date, ticker), sorted by (ticker, date). ``date`` is the trading day the bar
belongs to (its close is that day's session close, 16:00 New York or 13:00 on
an early-close day); ``close`` is adjusted
for splits and dividends where the source is (Yahoo's ``Adj Close`` where a source
has it; an index such as ``^GSPC`` is a price index: see :mod:`engine.pipeline.basis`; the Yahoo
cache's bars are raw closes split-adjusted forward, with dividends kept apart as events:
:mod:`feeds.yahoo`), and so are ``open``, ``high`` and ``low`` when they are present. Prices are in the
instrument's currency, ``volume`` in shares; any of open/high/low/volume may be
null (the bundled sample has closes only).

Loaders build a frame with these columns plus ``_row`` (the 1-based data row in the
source, for messages) and hand it to :func:`validate_bars`, which is the single
place that rejects bad data with a message naming file, row and field.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import polars as pl

from feeds.errors import DataQuirkWarning, InputError

BARS_SCHEMA = pl.Schema(
    {
        "date": pl.Date(),
        "ticker": pl.String(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
    }
)

ROW = "_row"
# Plausible prices. A close outside [MIN_PRICE, MAX_PRICE] or a day-over-day move (per
# ticker, between consecutive bars) beyond x MAX_DAILY_RATIO up or down is an error: no
# traded instrument's adjusted close does that; a parse or unit error does, and float
# arithmetic on shares and costs degrades far outside this range. Moves beyond
# x WARN_DAILY_RATIO (+100% or -50% in a day) are warned about, not refused: small stocks
# do move that much, and split-unadjusted data jump by such factors.
MIN_PRICE, MAX_PRICE = 1e-9, 1e15
MAX_DAILY_RATIO = 1000.0
WARN_DAILY_RATIO = 2.0
# Longest calendar gap between consecutive bars that still counts as daily data
# when it is typical (median); single longer gaps are market closures (warned).
MAX_TYPICAL_GAP_DAYS = 4
CLOSURE_GAP_DAYS = 5


def where(origin: str, row: int | None = None, field: str | None = None) -> str:
    """Format a location for messages: ``file.csv row 12 (line 13), field 'Close'``.

    ``row`` is the 1-based data row; for CSV files the line number adds the header.
    """
    text = origin
    if row is not None:
        text += f" row {row}"
        if origin.lower().endswith(".csv"):
            text += f" (line {row + 1})"
    if field is not None:
        text += f", field '{field}'"
    return text


def validate_bars(frame: pl.DataFrame, origin: str, fields: dict[str, str] | None = None) -> pl.DataFrame:
    """Check a loaded bars frame and return it in canonical form.

    ``frame`` has the ``BARS_SCHEMA`` columns plus ``_row``; ``fields`` maps our
    column names to the source's names so messages quote the user's header.
    Raises :class:`InputError` for an empty frame, duplicate (date, ticker),
    missing, NaN, infinite, non-positive or implausible closes (outside
    ``MIN_PRICE``..``MAX_PRICE``, or a daily move beyond x ``MAX_DAILY_RATIO``),
    infinite open/high/low, and non-daily data. Warns about daily moves beyond
    x ``WARN_DAILY_RATIO`` (split-unadjusted data?). Tolerates, with a
    :class:`DataQuirkWarning`: ``open`` = 0 (set to null; old ^GSPC rows),
    zero volume, and gaps longer than a weekend (market closures).
    """
    fields = fields or {}
    name = lambda col: fields.get(col, col)  # noqa: E731
    if frame.height == 0:
        raise InputError(f"{origin}: no data rows")

    bad_close = frame.filter(pl.col("close").is_null() | pl.col("close").is_nan() | (pl.col("close") <= 0))
    if bad_close.height:
        row = bad_close.row(0, named=True)
        value = row["close"]
        what = "missing or NaN" if value is None or value != value else f"{value!r} is not positive"
        more = f" ({bad_close.height} such rows)" if bad_close.height > 1 else ""
        raise InputError(f"{where(origin, row[ROW], name('close'))}: close {what}{more}")

    _check_finite(frame, origin, name)

    dupes = frame.filter(pl.struct("date", "ticker").is_duplicated()).sort(ROW)
    if dupes.height:
        first = dupes.row(0, named=True)
        rows = dupes.filter((pl.col("date") == first["date"]) & (pl.col("ticker") == first["ticker"]))[
            ROW
        ].to_list()
        raise InputError(
            f"{origin} rows {', '.join(map(str, rows))}: duplicate (date {first['date']}, "
            f"ticker {first['ticker']}); one bar per day and ticker is required"
        )

    _warn_out_of_order(frame, origin, name)
    frame = frame.sort("ticker", "date")
    _check_daily(frame, origin)
    _check_moves(frame, origin, name)
    frame = _tolerate_quirks(frame, origin)
    return frame.select(BARS_SCHEMA.names()).cast(dict(BARS_SCHEMA))


def _check_finite(frame: pl.DataFrame, origin: str, name: Callable[[str], str]) -> None:
    """Infinite prices anywhere, and closes outside the plausible range, are errors."""
    for col in ("close", "open", "high", "low"):
        bad = frame.filter(pl.col(col).is_infinite())
        if bad.height:
            row = bad.sort(ROW).row(0, named=True)
            raise InputError(f"{where(origin, row[ROW], name(col))}: {col} {row[col]!r} is not finite")
    bad = frame.filter((pl.col("close") < MIN_PRICE) | (pl.col("close") > MAX_PRICE)).sort(ROW)
    if bad.height:
        row = bad.row(0, named=True)
        more = f" ({bad.height} such rows)" if bad.height > 1 else ""
        raise InputError(
            f"{where(origin, row[ROW], name('close'))}: close {row['close']!r} is outside the plausible "
            f"range {MIN_PRICE:g}..{MAX_PRICE:g}{more}"
        )


def _check_moves(frame: pl.DataFrame, origin: str, name: Callable[[str], str]) -> None:
    """Day-over-day close ratios per ticker (``frame`` sorted by ticker, date); see the bounds above."""
    moves = frame.select(
        ROW, "ticker", "date", "close", ratio=(pl.col("close") / pl.col("close").shift(1)).over("ticker")
    ).drop_nulls("ratio")
    # the larger of the ratio and its inverse: how many times up or down
    moves = moves.with_columns(factor=pl.max_horizontal(pl.col("ratio"), 1.0 / pl.col("ratio")))
    extreme = moves.filter(pl.col("factor") > MAX_DAILY_RATIO).sort(ROW)
    if extreme.height:
        row = extreme.row(0, named=True)
        raise InputError(
            f"{where(origin, row[ROW], name('close'))}: close {row['close']!r} on {row['date']} "
            f"({row['ticker']}) is x{row['ratio']:.3g} the previous close, beyond the plausible "
            f"x{MAX_DAILY_RATIO:g} or /{MAX_DAILY_RATIO:g} in a day (a parse or unit error?)"
        )
    large = moves.filter(pl.col("factor") > WARN_DAILY_RATIO).sort("factor", descending=True)
    if large.height:
        row = large.row(0, named=True)
        warnings.warn(
            DataQuirkWarning(
                f"{where(origin, row[ROW], name('close'))}: close x{row['ratio']:.3g} the previous one on "
                f"{row['date']} ({row['ticker']}), the largest of {large.height} daily move(s) beyond "
                f"x{WARN_DAILY_RATIO:g} or /{WARN_DAILY_RATIO:g}; a split not adjusted for?"
            ),
            stacklevel=3,
        )


def _check_daily(frame: pl.DataFrame, origin: str) -> None:
    gaps = frame.select(
        "ticker", "date", gap=(pl.col("date").diff().dt.total_days()).over("ticker")
    ).drop_nulls("gap")
    if gaps.height == 0:
        return
    typical = gaps.group_by("ticker").agg(pl.col("gap").median()).sort("gap", descending=True)
    ticker, median = typical.row(0)
    if median > MAX_TYPICAL_GAP_DAYS:
        kind = "weekly" if median <= 10 else "monthly or coarser"
        raise InputError(
            f"{origin}: ticker {ticker} looks {kind} (median gap {median:g} days between "
            "bars); daily bars are required"
        )
    closures = gaps.filter(pl.col("gap") > CLOSURE_GAP_DAYS).sort("gap", descending=True)
    if closures.height:
        longest = closures.row(0, named=True)
        warnings.warn(
            DataQuirkWarning(
                f"{origin}: {closures.height} gap(s) longer than {CLOSURE_GAP_DAYS} days "
                f"(market closures?); longest {longest['gap']} days before "
                f"{longest['date']} ({longest['ticker']})"
            ),
            stacklevel=3,
        )


def _warn_out_of_order(frame: pl.DataFrame, origin: str, name: Callable[[str], str]) -> None:
    """Warn, naming the first such row, when a file's dates go back in time in places.

    A file wholly oldest-first or wholly newest-first (per ticker) is sorted silently;
    one row out of place may be a typo in its date, so it is named before sorting.
    """
    steps = frame.sort(ROW).with_columns(step=pl.col("date").diff().over("ticker"))
    back = steps.filter(pl.col("step") < pl.duration(days=0))
    forward = steps.filter(pl.col("step") > pl.duration(days=0))
    if back.height == 0 or forward.height == 0:
        return
    odd = back if back.height <= forward.height else forward
    row = odd.row(0, named=True)
    warnings.warn(
        DataQuirkWarning(
            f"{where(origin, row[ROW], name('date'))}: date {row['date']} ({row['ticker']}) is out of order "
            f"({odd.height} such row(s)); rows were sorted by date: check that date"
        ),
        stacklevel=3,
    )


def _tolerate_quirks(frame: pl.DataFrame, origin: str) -> pl.DataFrame:
    zero_open = frame.filter(pl.col("open") == 0)
    if zero_open.height:
        warnings.warn(
            DataQuirkWarning(
                f"{origin}: open is 0 on {zero_open.height} rows (e.g. {zero_open['date'][0]}); "
                "treated as missing"
            ),
            stacklevel=3,
        )
        frame = frame.with_columns(
            pl.when(pl.col("open") == 0).then(None).otherwise(pl.col("open")).alias("open")
        )
    zero_volume = frame.filter(pl.col("volume") == 0).height
    if zero_volume:
        warnings.warn(
            DataQuirkWarning(f"{origin}: volume is 0 on {zero_volume} rows; kept as 0"),
            stacklevel=3,
        )
    return frame
