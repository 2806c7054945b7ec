"""Shared fixtures: small hand-built markets and an isolated runs/cache directory per test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from feeds.market import Market
from tests.payload_schema import (  # noqa: F401 - fixtures and hook registered here
    _checked_payload_sources,
    pytest_terminal_summary,
    validate_run_payloads,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GSPC_CSV = SHARED_DATA / "sp500_gspc_daily_1927-12-30_2023-12-28_yahoo.csv"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Every test gets its own runs and cache directories."""
    monkeypatch.setenv("STOCKRNN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STOCKRNN_CACHE_DIR", str(tmp_path / "cache"))
    # CLI runs of test plugins skip the first-use audit (tests/engine/test_first_use.py tests it)
    monkeypatch.setenv("STOCKRNN_NO_AUDIT", "1")
    return tmp_path


def business_days(start: str, n: int) -> np.ndarray:
    """n weekdays from ``start`` as datetime64[D]."""
    first = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    return np.busday_offset(first, np.arange(n), roll="forward")


def random_walk_market(
    n: int = 600,
    tickers: tuple[str, ...] = ("AAA",),
    seed: int = 0,
    start: str = "2015-01-01",
    drift: float = 0.0004,
    vol: float = 0.012,
) -> Market:
    """A reproducible market of geometric random walks."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(drift, vol, size=(n, len(tickers)))
    close = 100.0 * np.exp(np.cumsum(steps, axis=0))
    return Market(dates=business_days(start, n), tickers=tickers, close=close, origin="synthetic")


@pytest.fixture
def market() -> Market:
    return random_walk_market()


def write_yahoo_csv(path: Path, market: Market, column: int = 0) -> Path:
    """Write one ticker of a market as a Yahoo export CSV (Adj Close = Close)."""
    lines = ["Date,Open,High,Low,Close,Adj Close,Volume"]
    for d, c in zip(market.dates, market.close[:, column], strict=True):
        lines.append(f"{d},{c:.6f},{c * 1.01:.6f},{c * 0.99:.6f},{c:.6f},{c:.6f},1000")
    path.write_text("\n".join(lines) + "\n")
    return path
