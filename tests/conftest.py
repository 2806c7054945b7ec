"""Shared fixtures: small hand-built markets and an isolated runs/cache directory per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.market import Market
from feeds.synthetic import business_days, random_walk_market  # noqa: F401  (tests import them from here)
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
    # CLI runs of test plugins skip the first-use audit (tests/engine/workflows/test_first_use.py tests it)
    monkeypatch.setenv("STOCKRNN_NO_AUDIT", "1")
    return tmp_path


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
