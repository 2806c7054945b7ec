"""The bundled price sample: S&P 500 index and 20 large US stocks, 1990-2022.

Origin and license: ``feeds/data/NOTICE.md`` (derived from skfolio's BSD-3 data
files; rebuilt by ``python -m feeds.data.rebuild_sample``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from feeds.schema import BARS_SCHEMA

SAMPLE_PATH = Path(__file__).parent / "data" / "sample_prices.parquet"
INDEX_TICKER = "^GSPC"


def read_sample() -> pl.DataFrame:
    """The bundled sample as a bars frame (``BARS_SCHEMA``; closes only).

    Daily closes of ``^GSPC`` and AAPL, AMD, BAC, BBY, CVX, GE, HD, JNJ, JPM, KO,
    LLY, MRK, MSFT, PEP, PFE, PG, RRC, UNH, WMT, XOM from 1990-01-02 to 2022-12-28.
    The stocks' closes are adjusted for splits and dividends; ``^GSPC`` is the S&P 500
    *price* index (no dividends: the engine adds them, see :mod:`engine.pipeline.basis`).
    """
    stored = pl.read_parquet(SAMPLE_PATH)
    # numpy's true division is correctly rounded, so 3783220 / 1000 is exactly the float
    # parsed from "3783.22" (polars turns a division by a constant into a multiplication)
    close = stored["close_milli"].to_numpy().astype(np.float64) / 1000.0
    return stored.select(
        "date",
        "ticker",
        *(pl.lit(None, pl.Float64).alias(c) for c in ("open", "high", "low")),
        pl.Series("close", close),
        pl.lit(None, pl.Float64).alias("volume"),
    ).cast(dict(BARS_SCHEMA))
