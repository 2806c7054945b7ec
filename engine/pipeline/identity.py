"""What identifies a run's data (source, range, fingerprint): recorded in the result and the manifest."""

from __future__ import annotations

from typing import Any

from engine.config.run_config import RunConfig
from feeds.market import Market


def data_identity(config: RunConfig, market: Market) -> dict[str, Any]:
    """The data a run traded: spec, origin, tickers, first and last day (ISO), days, fingerprint."""
    return {
        "spec": config.data,
        "origin": market.origin,
        "tickers": list(market.tickers),
        "first": str(market.dates[0]),
        "last": str(market.dates[-1]),
        "days": int(market.n_days),
        "fingerprint": market.fingerprint(),
    }
