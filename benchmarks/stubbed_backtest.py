"""The `backtest` CLI with only the network replaced: ``yfinance.download`` answers from a stub.

    STUB_YAHOO=state.json python benchmarks/stubbed_backtest.py daily --runs-dir ...

``STUB_YAHOO`` names the state file of ``tests.feeds.yahoo_stub.PublishingYahoo`` (what Yahoo
has published so far, and how many calls fail first); every call is appended as one JSON line
to ``STUB_YAHOO_LOG`` when set (the start asked for, whether it failed, a monotonic time).
``STUB_BACKOFF_S`` shortens ``backtest daily``'s retry backoff for a simulation (default 0.05 s
instead of 30 s). Everything else is the real code: ``feeds.yahoo.fetch``, the cache, the store,
the update and the signal. For benchmarks and tests only: production code has no hook for it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for tests.feeds

import yfinance

from engine.cli import main
from engine.workflows import daily
from tests.feeds.yahoo_stub import PublishingYahoo


def install() -> None:
    """Put the stub named by ``STUB_YAHOO`` on ``yfinance.download`` and shorten the backoff."""
    stub = PublishingYahoo.load(Path(os.environ["STUB_YAHOO"]))
    log = os.environ.get("STUB_YAHOO_LOG")

    def download(tickers: str, start: str | None = None, **kwargs: object) -> pd.DataFrame:
        frame = stub(tickers, start=start, **kwargs)
        if log:
            line = {"start": start, "failed": len(frame) == 0, "t": time.monotonic(), "pid": os.getpid()}
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line) + "\n")
        return frame

    yfinance.download = download
    daily.BACKOFF_S = float(os.environ.get("STUB_BACKOFF_S", "0.05"))


if __name__ == "__main__":
    install()
    main()
