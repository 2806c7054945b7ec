"""Transparent, non-learning baselines: buy-and-hold, a moving-average trend rule,
and 12-month momentum top-k for annual stock picking."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from strategies.base import RuleStrategy
from strategies.history import History
from strategies.params import StrategyParams
from strategies.top_k import top_k_weights


def _alive(close: np.ndarray) -> np.ndarray:
    """Bool (n_days, n_tickers): the ticker has a bar that day."""
    return ~np.isnan(close)


class BuyAndHold(RuleStrategy):
    """Buy equal weights of every ticker that trades, then hold without rebalancing.

    Decides on the first day and again only when the set of trading tickers changes
    (a ticker starts or stops trading); otherwise rows are NaN (hold). With one
    ticker: fully invested from the first close to the end. This is also the
    benchmark every run is compared with. With a point-in-time universe
    (``History.universe``) it holds the members that had a price at the last year
    end, equal-weight, from the first year end on: it rebalances when that set
    changes (at a year end) or a held ticker stops trading.
    """

    name = "buy-and-hold"
    summary = "equal-weight buy-and-hold of the tickers (the benchmark)"

    def target_weights(self, history: History, seeds: tuple[int, ...]) -> np.ndarray:
        alive = _alive(history.close)
        universe = history.universe
        if universe is not None:  # the members held since the last year end (see History.universe)
            alive &= universe
        changed = np.ones(len(alive), dtype=bool)
        changed[1:] = np.any(alive[1:] != alive[:-1], axis=1)
        count = alive.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = np.where(alive, 1.0 / count, 0.0)
        weights[~changed] = np.nan
        if universe is not None:
            ends = np.flatnonzero(history.year_end)
            weights[: ends[0] if ends.size else len(weights)] = np.nan  # no member list before then
        return weights


class MovingAverageTrendParams(StrategyParams):
    window: int = Field(200, ge=2, le=2000, description="moving-average length [trading days]")
    short: bool = Field(False, description="short below the average instead of going flat")


class MovingAverageTrend(RuleStrategy):
    """Long a ticker while its close is above its simple moving average, else flat (or short).

    Decision at t's close: compare close[t] with the mean of close[t-window+1..t].
    Capital is split equally across tickers (1/n each). First decision once
    ``window`` closes exist.
    """

    name = "ma-trend"
    summary = "long above the moving average of the close, flat (or short) below"
    Params = MovingAverageTrendParams
    params: MovingAverageTrendParams

    def target_weights(self, history: History, seeds: tuple[int, ...]) -> np.ndarray:
        close = history.close
        window = self.params.window
        n, k = close.shape
        weights = np.full((n, k), np.nan)
        if n < window:
            return weights
        valid = _alive(close)
        sums = np.zeros((n + 1, k))
        counts = np.zeros((n + 1, k))
        np.cumsum(np.where(valid, close, 0.0), axis=0, out=sums[1:])
        np.cumsum(valid, axis=0, out=counts[1:])
        window_sum = sums[window:] - sums[:-window]  # row i: closes of rows i..i+window-1
        full = (counts[window:] - counts[:-window]) == window  # no gap inside the window
        today = close[window - 1 :]
        above = np.where(full, today > window_sum / window, False)
        below = -1.0 if self.params.short else 0.0
        weights[window - 1 :] = np.where(above, 1.0, np.where(full, below, 0.0)) / k
        return weights


class MomentumAnnualParams(StrategyParams):
    lookback_days: int = Field(252, ge=20, description="trailing-return horizon [trading days]")
    top_k: int = Field(5, ge=1, description="number of stocks held for the next year")
    weighting: Literal["equal", "score"] = Field(
        "equal", description="equal weights, or proportional to the positive trailing return"
    )


class MomentumAnnual(RuleStrategy):
    """At the last close of each year, hold the top-k stocks by trailing 12-month return.

    Eligible: tickers with a bar today and ``lookback_days`` bars ago (and in the
    point-in-time universe today, when the run has one). Held,
    without rebalancing, through the next calendar year.
    """

    name = "momentum-annual"
    summary = "annual top-k stocks by trailing 12-month return"
    frequency = "annual"
    Params = MomentumAnnualParams
    params: MomentumAnnualParams

    def target_weights(self, history: History, seeds: tuple[int, ...]) -> np.ndarray:
        close = history.close
        lookback = self.params.lookback_days
        n, k = close.shape
        weights = np.full((n, k), np.nan)
        for t in np.flatnonzero(history.year_end):
            if t < lookback:
                continue
            trailing = close[t] / close[t - lookback] - 1.0
            ok = ~np.isnan(trailing)
            if history.universe is not None:
                ok &= history.universe[t]
            eligible = np.flatnonzero(ok)
            if eligible.size == 0:
                continue
            positions, picked = top_k_weights(trailing[eligible], self.params.top_k, self.params.weighting)
            row = np.zeros(k)
            row[eligible[positions]] = picked
            weights[t] = row
        return weights
