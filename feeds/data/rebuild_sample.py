"""Rebuild the bundled price sample from the skfolio wheel.

The sample (``sample_prices.parquet``) is derived from two BSD-3 licensed data
files shipped inside the PyPI package ``skfolio`` (Yahoo prices, rounded to 3
decimals by skfolio; the stocks adjusted for splits and dividends, the index a
price index without dividends):

- ``skfolio/datasets/data/sp500_index.csv.gz``: S&P 500 index, column ``SP500``;
- ``skfolio/datasets/data/sp500_dataset.csv.gz``: 20 large US stocks.

skfolio is only needed to rebuild, never at run time. Usage::

    python -m feeds.data.rebuild_sample                  # downloads the wheel with pip
    python -m feeds.data.rebuild_sample --wheel PATH.whl  # uses a wheel you already have

The output is a long table ``date, ticker, close_milli`` (the index is stored under
its Yahoo symbol ``^GSPC``), sorted by (ticker, date), written atomically. skfolio
rounds prices to 3 decimals, so the close is stored exactly as an integer number of
thousandths (``close_milli``) with delta encoding: about half the size of the
gzipped CSVs. ``close_milli / 1000`` gives the same float as parsing the CSV.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

SKFOLIO_VERSION = "1.12.2"
INDEX_MEMBER = "skfolio/datasets/data/sp500_index.csv.gz"
STOCKS_MEMBER = "skfolio/datasets/data/sp500_dataset.csv.gz"
INDEX_TICKER = "^GSPC"
OUT = Path(__file__).with_name("sample_prices.parquet")


def _download_wheel(dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            f"skfolio=={SKFOLIO_VERSION}",
            "-d",
            str(dest),
        ],
        check=True,
    )
    return next(dest.glob("skfolio-*.whl"))


def _read_member(wheel: zipfile.ZipFile, member: str) -> pl.DataFrame:
    raw = gzip.decompress(wheel.read(member))
    return pl.read_csv(io.BytesIO(raw), try_parse_dates=True)


def build(wheel_path: Path) -> pl.DataFrame:
    """Return the sample as a long frame ``date, ticker, close_milli`` from a skfolio wheel."""
    with zipfile.ZipFile(wheel_path) as wheel:
        index = _read_member(wheel, INDEX_MEMBER).rename({"SP500": INDEX_TICKER})
        stocks = _read_member(wheel, STOCKS_MEMBER)
    wide = index.join(stocks, on="Date", how="full", coalesce=True)
    long = wide.unpivot(index="Date", variable_name="ticker", value_name="close").rename({"Date": "date"})
    milli = (pl.col("close") * 1000).round()
    return (
        long.drop_nulls("close")
        .with_columns(
            pl.col("date").cast(pl.Date),
            pl.col("ticker").cast(pl.String),
            close_milli=milli.cast(pl.Int32),
        )
        .drop("close")
        .sort("ticker", "date")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a skfolio wheel; downloaded when omitted")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _download_wheel(Path(tmp))
        frame = build(wheel)
        partial = args.out.with_suffix(".parquet.partial")
        pq.write_table(
            frame.to_arrow(),
            partial,
            compression="zstd",
            compression_level=22,
            use_dictionary=["ticker"],
            column_encoding={"date": "DELTA_BINARY_PACKED", "close_milli": "DELTA_BINARY_PACKED"},
        )
        os.replace(partial, args.out)
    print(
        f"wrote {args.out}: {frame.height} rows, {frame['ticker'].n_unique()} tickers, "
        f"{frame['date'].min()}..{frame['date'].max()}"
    )


if __name__ == "__main__":
    main()
