"""What annual strategies picked, and whether the picks beat the universe's median stock.

An annual decision at close t (a non-NaN target row) is held until the next
decision or the data end; it is labelled by the calendar year it is held in
(the year after a year-end decision, e.g. picks made on 2019-12-31 -> "2020").
A pick is a ticker with a positive target weight. Its holding-period return is
close[next decision] / close[t] - 1, or to its last close when it stops trading
earlier (the engine sells it there). The universe's median stock is the median
of the same return over every ticker that had a price at t (and was a member of
the run's point-in-time universe at t, when it has one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from strategies.base import ENSEMBLE, Member


def _held_return(close: np.ndarray, t: int, nxt: int) -> np.ndarray:
    """Per ticker: close at ``nxt`` (or its last close before it) over close at ``t``, minus 1."""
    segment = close[t : nxt + 1]
    valid = ~np.isnan(segment)
    last = segment.shape[0] - 1 - np.argmax(valid[::-1], axis=0)
    end = segment[last, np.arange(segment.shape[1])]
    with np.errstate(invalid="ignore"):
        return end / segment[0] - 1.0


def _median_return(ret: np.ndarray, close: np.ndarray, t: int, universe: np.ndarray | None) -> float:
    """The median held return over tickers with a price at row ``t`` (and in the universe then)."""
    eligible = ~np.isnan(close[t])
    if universe is not None:
        eligible &= universe[t]
    return float(np.nanmedian(ret[eligible])) if eligible.any() else np.nan


def _seed_counts(chosen: list[np.ndarray], seed_cols: list[int], tickers: tuple[str, ...]) -> dict[str, int]:
    """Ticker -> number of seed members that picked it, most picked first (then by name)."""
    counts: dict[str, int] = {}
    for c in seed_cols:
        for j in chosen[c]:
            counts[tickers[j]] = counts.get(tickers[j], 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def annual_picks(
    targets: np.ndarray,
    members: tuple[Member, ...],
    tickers: tuple[str, ...],
    dates: np.ndarray,
    close: np.ndarray,
    start: int,
    universe: np.ndarray | None = None,
) -> dict[str, Any]:
    """Picks per holding year for decisions on rows >= ``start`` (the trading period).

    ``targets``: (n_days, n_members, n_tickers); ``close``: (n_days, n_tickers);
    ``dates``: datetime64[D] of the rows; ``universe``: the run's point-in-time
    universe (``Market.universe``), which then also bounds the median stock.
    Returns the JSON-ready block stored as
    ``picks`` (main member: the ensemble when there is one, else the first),
    ``pick_returns`` (year -> ticker -> return over the year held, a fraction) with
    ``universe_median_return`` (year -> the median stock's return),
    ``picks_by_seed`` (year -> ticker -> number of seed members that picked it)
    and ``picks_beat_median`` (share of main picks that beat the universe's median
    stock over the year held, overall and per year; mean over members too).
    """
    decided = np.flatnonzero(~np.isnan(targets[start:]).all(axis=(1, 2))) + start
    main = members.index(ENSEMBLE) if ENSEMBLE in members else 0
    seed_cols = [i for i, m in enumerate(members) if m != ENSEMBLE]
    n = len(dates)
    picks: dict[str, list[str]] = {}
    pick_returns: dict[str, dict[str, float]] = {}
    medians: dict[str, float] = {}
    by_seed: dict[str, dict[str, int]] = {}
    beat_by_year: dict[str, float] = {}
    beats_main: list[bool] = []
    beats_all: list[list[bool]] = [[] for _ in members]
    for i, t in enumerate(decided):
        if t >= n - 1:
            continue
        nxt = decided[i + 1] if i + 1 < len(decided) else n - 1
        year = str(int(str(dates[t + 1])[:4]))
        ret = _held_return(close, int(t), int(nxt))
        median = _median_return(ret, close, int(t), universe)
        row = targets[t]
        chosen = [np.flatnonzero(np.nan_to_num(row[c]) > 0) for c in range(len(members))]
        picks[year] = [tickers[j] for j in chosen[main]]
        pick_returns[year] = {tickers[j]: float(ret[j]) for j in chosen[main]}
        medians[year] = median
        by_seed[year] = _seed_counts(chosen, seed_cols, tickers)
        for c, cols in enumerate(chosen):
            won = [bool(ret[j] > median) for j in cols]
            beats_all[c].extend(won)
            if c == main:
                beats_main.extend(won)
                beat_by_year[year] = float(np.mean(won)) if won else np.nan
    return {
        "picks": picks,
        "pick_returns": pick_returns,
        "universe_median_return": medians,
        "picks_by_seed": by_seed if len(seed_cols) > 1 else {},
        "picks_beat_median": _beat_median(beats_main, beats_all, beat_by_year, seed_cols),
    }


def _beat_median(
    beats_main: list[bool], beats_all: list[list[bool]], by_year: dict[str, float], seed_cols: list[int]
) -> dict[str, Any]:
    """Shares (fractions) of picks that beat the median stock: the main member's, per year, over seeds."""
    share = [float(np.mean(b)) if b else np.nan for b in beats_all]
    return {
        "share": float(np.mean(beats_main)) if beats_main else None,
        "by_year": by_year,
        "share_mean_over_seeds": float(np.nanmean([share[c] for c in seed_cols])) if seed_cols else None,
    }
