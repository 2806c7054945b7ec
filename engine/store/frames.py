"""The frames of a run folder: their schemas and how a run's result becomes them.

``equity.parquet``: date, strategy, role, member, equity (one row per trading day, portfolio and
member; equity in units of the starting capital). ``weights.parquet``: date, strategy, role, member,
ticker, weight (decision rows only: the target weight decided at that data row's close).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.pipeline.results import SimulatedRun

# the one definition of each stored frame's columns and dtypes: written by encode_frames, checked on
# every read (engine.store.run_reader: from the Parquet footer, and again on the frame read)
EQUITY_SCHEMA = pl.Schema(
    {"date": pl.Date, "strategy": pl.String, "role": pl.String, "member": pl.String, "equity": pl.Float64}
)
WEIGHTS_SCHEMA = pl.Schema(
    {
        "date": pl.Date,
        "strategy": pl.String,
        "role": pl.String,
        "member": pl.String,
        "ticker": pl.String,
        "weight": pl.Float64,
    }
)
FRAME_SCHEMAS: dict[str, pl.Schema] = {"equity.parquet": EQUITY_SCHEMA, "weights.parquet": WEIGHTS_SCHEMA}
FRAMES = tuple(FRAME_SCHEMAS)


def encode_frames(result: SimulatedRun) -> dict[str, pl.DataFrame]:
    """``equity.parquet`` and ``weights.parquet`` of ``result`` as frames of :data:`FRAME_SCHEMAS`.

    Equity: one row per trading day, portfolio and member. Weights: the targets of decision rows
    only (rows where a portfolio decided anything), dated by the data row they were decided on.
    """
    equity_parts, weight_parts = [], []
    for item in (*result.strategies, *result.benchmarks):
        n, m = item.equity.shape
        equity_parts.append(
            pl.DataFrame(
                {
                    "date": np.tile(result.dates, m),
                    "strategy": item.name,
                    "role": item.role,
                    "member": np.repeat([str(x) for x in item.members], n),
                    "equity": item.equity.T.reshape(-1),
                },
                schema_overrides=dict(EQUITY_SCHEMA),
            )
        )
        rows, cols = np.nonzero(~np.all(np.isnan(item.targets), axis=2))
        k = len(item.tickers)
        weight_parts.append(
            pl.DataFrame(
                {
                    "date": np.repeat(result.data_dates[rows], k),
                    "strategy": item.name,
                    "role": item.role,
                    "member": np.repeat(np.array([str(x) for x in item.members], dtype=object)[cols], k),
                    "ticker": np.tile(np.array(item.tickers, dtype=object), len(rows)),
                    "weight": item.targets[rows, cols].reshape(-1),
                },
                schema_overrides=dict(WEIGHTS_SCHEMA),  # typed even when a part is empty
            )
        )
    frames = {"equity.parquet": pl.concat(equity_parts), "weights.parquet": pl.concat(weight_parts)}
    for name, frame in frames.items():
        if frame.schema != FRAME_SCHEMAS[name]:  # the writer keeps the one definition too
            raise TypeError(f"{name}: built as {frame.schema}, not {FRAME_SCHEMAS[name]}")
    return frames
