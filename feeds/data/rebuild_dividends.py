"""Rebuild the bundled S&P 500 dividend series from Robert Shiller's monthly data.

Input: the monthly S&P 500 file of the public ``datasets/s-and-p-500`` data package
(ODC-PDDL; credit Robert Shiller), columns ``Date,SP500,Dividend,...``. Output:
``sp500_dividends_shiller.csv`` with ``month,dividend,price``:

- ``month``: first day of the month (``YYYY-MM-01``);
- ``dividend``: Shiller's ``Dividend``, the trailing twelve-month dividend per
  index unit in index points (an annual rate);
- ``price``: Shiller's ``SP500``, the monthly average of daily closes (used only to
  turn the last month's dividend into a yield that is carried forward).

Rows after the last month with a known dividend are dropped: in the source, every
column but ``SP500`` is ``0.0`` from 2023-07 on, meaning missing, not zero. A zero
dividend before that month would be an error and stops the rebuild. Usage::

    python -m feeds.data.rebuild_dividends ../shared/data/sp500_shiller_monthly_1871-01_2026-06.csv
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import polars as pl

OUT = Path(__file__).parent / "sp500_dividends_shiller.csv"


def rebuild(source: Path, out: Path = OUT) -> pl.DataFrame:
    """Write ``out`` from Shiller's monthly file ``source``; returns the written frame."""
    raw = pl.read_csv(source, columns=["Date", "SP500", "Dividend"], schema_overrides={"Date": pl.String})
    frame = raw.select(
        pl.col("Date").str.slice(0, 7).add("-01").str.to_date("%Y-%m-%d").alias("month"),
        pl.col("Dividend").cast(pl.Float64).alias("dividend"),
        pl.col("SP500").cast(pl.Float64).alias("price"),
    ).sort("month")
    known = frame.filter(pl.col("dividend") > 0)
    last = known["month"].max()
    kept = frame.filter(pl.col("month") <= last)
    if kept.height != known.height:
        bad = kept.filter(pl.col("dividend") <= 0)["month"][0]
        raise SystemExit(f"{source}: dividend is 0 or missing in {bad}, before the last known month {last}")
    partial = out.with_name(out.name + ".partial")
    kept.write_csv(partial, float_precision=6)
    os.replace(partial, out)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Shiller monthly CSV (Date,SP500,Dividend,...)")
    args = parser.parse_args()
    frame = rebuild(args.source)
    print(f"{OUT}: {frame.height} months, {frame['month'].min()}..{frame['month'].max()}")


if __name__ == "__main__":
    main()
