"""Driving strategies over the days: the engine owns time, strategies only see the past.

``generate_targets`` runs one strategy over a market in its style (rule: once;
online and walk-forward: day by day, ``learn`` after the fact, walk-forward ``fit``
on retrain days, ``decide`` every day) and checks what comes back against the contract of
:mod:`strategies.base`. Anything wrong raises :class:`StrategyError` naming the
strategy, the day and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.pipeline.progress import Progress
from engine.pipeline.tracebacks import raised_at
from feeds.errors import InputError
from feeds.market import Market
from strategies.base import Member, OnlineStrategy, RuleStrategy, Strategy, WalkForwardStrategy
from strategies.errors import StrategyError
from strategies.history import History, PastBuffer

LEVERAGE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class StrategyTargets:
    """Target weights of one strategy: shape (n_days, n_members, n_tickers), NaN rows = hold.

    ``state``: an online strategy's ``state_dict()`` after the last day (for
    checkpoints), None when it has none.
    """

    label: str
    members: tuple[Member, ...]
    targets: np.ndarray
    state: dict[str, Any] | None = None


@dataclass
class Clock:
    """The day being driven (None outside the day loop): names the day in error messages."""

    day: np.datetime64 | None = None


@dataclass(frozen=True)
class Resume:
    """Where an online strategy continues: its state after row ``next_day - 1`` and the
    targets it decided on rows [0, next_day)."""

    state: dict[str, Any]
    next_day: int
    targets: np.ndarray


def generate_targets(
    strategy: Strategy,
    market: Market,
    seeds: tuple[int, ...],
    *,
    max_leverage: float = 1.0,
    progress: Progress | None = None,
    resume: Resume | None = None,
    until: int | None = None,
) -> StrategyTargets:
    """Run ``strategy`` over ``market`` and return its checked targets.

    ``resume`` continues an online strategy from a checkpoint instead of day 0;
    the result is the same as one run over the whole market. ``until``: drive
    online and walk-forward strategies through row ``until`` only (later rows stay
    NaN; the look-ahead audit compares earlier rows only); rule strategies are
    always computed whole. ``progress``: reported with the strategy's label as the
    stage, in days driven (rows of ``market``), every 64 days and on the last.
    """
    label = strategy.label()
    members = tuple(strategy.members(seeds))
    shape = (market.n_days, len(members), len(market.tickers))
    state = None
    clock = Clock()
    if resume is not None and isinstance(strategy, RuleStrategy):
        raise StrategyError(
            f"strategy {label}: rule strategies are recomputed, not continued from checkpoints"
        )
    try:
        if isinstance(strategy, RuleStrategy):
            raw = _rule_array(label, strategy.target_weights(History(market), seeds), market)
            targets = raw[:, None, :] if raw.ndim == 2 and len(members) == 1 else raw
            if progress:
                progress(label, market.n_days, market.n_days)
        elif isinstance(strategy, (OnlineStrategy, WalkForwardStrategy)):
            targets, state = _drive_days(strategy, market, seeds, shape, progress, resume, clock, until)
        else:
            raise StrategyError(
                f"strategy {label}: not a RuleStrategy, OnlineStrategy or WalkForwardStrategy"
            )
    except (StrategyError, InputError, KeyboardInterrupt):
        raise
    except Exception as exc:
        when = f" on {clock.day}" if clock.day is not None else ""
        where = raised_at(exc, type(strategy))
        raise StrategyError(
            f"strategy {label} raised {type(exc).__name__}{when}: {exc}" + (f" (at {where})" if where else "")
        ) from exc
    check_targets(label, targets, shape, market, strategy.frequency, max_leverage)
    return StrategyTargets(label, members, targets, state or None)


def _rule_array(label: str, value: object, market: Market) -> np.ndarray:
    """A rule strategy's weights as an array; a frame (polars or pandas) with a ``date`` column
    and one column per ticker is checked against the market's days, in order, and tickers."""
    if hasattr(value, "columns") and not isinstance(value, np.ndarray):
        frame = value if isinstance(value, pl.DataFrame) else pl.from_pandas(value.reset_index())  # type: ignore[attr-defined]
        if "date" not in frame.columns:
            raise StrategyError(f"strategy {label} returned a frame without a 'date' column")
        dates = frame["date"].cast(pl.Date).to_numpy().astype("datetime64[D]")
        if len(dates) != market.n_days or not np.array_equal(dates, market.dates):
            order = np.diff(dates.astype(np.int64))
            if (order <= 0).any():
                i = int(np.flatnonzero(order <= 0)[0])
                raise StrategyError(f"strategy {label}: dates out of order at row {i + 1} ({dates[i + 1]})")
            extra = np.setdiff1d(dates, market.dates)
            where = f"e.g. {extra[0]} is not a day of the data" if extra.size else "some days are missing"
            raise StrategyError(
                f"strategy {label} returned {len(dates)} dated rows for {market.n_days} days "
                f"of data ({where})"
            )
        missing = [t for t in market.tickers if t not in frame.columns]
        unknown = [c for c in frame.columns if c != "date" and c not in market.tickers]
        if missing or unknown:
            raise StrategyError(
                f"strategy {label}: frame columns do not match the tickers "
                f"(missing {missing}, unknown {unknown})"
            )
        return frame.select(list(market.tickers)).to_numpy().astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def _row(label: str, value: object, shape: tuple[int, int, int], day: np.datetime64) -> np.ndarray:
    row = np.asarray(value, dtype=np.float64)
    if row.shape == shape[2:] and shape[1] == 1:
        row = row[None, :]
    if row.shape != shape[1:]:
        raise StrategyError(
            f"strategy {label} returned weights of shape {row.shape} on {day}; "
            f"expected {shape[1:]} (members x tickers)"
        )
    return row


def _drive_days(
    strategy: OnlineStrategy | WalkForwardStrategy,
    market: Market,
    seeds: tuple[int, ...],
    shape: tuple[int, int, int],
    progress: Progress | None,
    resume: Resume | None,
    clock: Clock,
    until: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Online and walk-forward strategies: one call sequence per day, in order."""
    targets = np.full(shape, np.nan)
    walk_forward = isinstance(strategy, WalkForwardStrategy)
    # The strategy only ever sees `past`: rows are appended one day at a time, row t + 1
    # after the calls for day t have returned (see strategies.history).
    source = PastBuffer.over(market)
    past = PastBuffer.empty(market)
    past.append(source, 0)
    strategy.begin(History(past, 1), seeds)
    first = 0
    fitted = not walk_forward
    if resume is not None:
        strategy.load_state_dict(resume.state)
        first = resume.next_day
        targets[:first] = resume.targets[:first]
        for t in range(first):
            if t > 0:
                past.append(source, t)
            if walk_forward and not fitted:  # retrain days depend on the calendar only
                fitted = strategy.is_retrain_day(History(past, t + 1))
    label = strategy.label()
    try:
        last = market.n_days if until is None else min(market.n_days, until + 1)
        for t in range(first, last):
            if t > 0:
                past.append(source, t)
            history = History(past, t + 1)
            clock.day = market.dates[t]
            if t > 0:
                strategy.learn(history)
            if walk_forward and strategy.is_retrain_day(history):
                strategy.fit(history, seeds)
                fitted = True
            if fitted:
                targets[t] = _row(label, strategy.decide(history), shape, market.dates[t])
            if progress and (t % 64 == 0 or t == market.n_days - 1):
                progress(label, t + 1, market.n_days)
        clock.day = None
        state = strategy.state_dict()
    finally:
        strategy.end()
    return targets, state


def check_targets(
    label: str,
    targets: np.ndarray,
    shape: tuple[int, int, int],
    market: Market,
    frequency: str,
    max_leverage: float,
) -> None:
    """Enforce the output contract; raise :class:`StrategyError` on the first violation."""
    if targets.shape != shape:
        raise StrategyError(
            f"strategy {label} returned weights of shape {targets.shape}; expected {shape} "
            "(days x members x tickers), one row per day of the data"
        )
    nan = np.isnan(targets)
    all_nan = nan.all(axis=2)
    partial = nan.any(axis=2) & ~all_nan
    if partial.any():
        t, j = np.argwhere(partial)[0]
        raise StrategyError(
            f"strategy {label}: weights on {market.dates[t]} mix NaN and numbers (member {j}); "
            "a row must be all NaN (hold) or all finite"
        )
    if np.isinf(targets).any():
        t = np.argwhere(np.isinf(targets))[0][0]
        raise StrategyError(f"strategy {label}: infinite weight on {market.dates[t]}")
    gross = np.where(all_nan, 0.0, np.abs(np.nan_to_num(targets)).sum(axis=2))
    if (gross > max_leverage + LEVERAGE_TOLERANCE).any():
        t, j = np.argwhere(gross > max_leverage + LEVERAGE_TOLERANCE)[0]
        raise StrategyError(
            f"strategy {label}: gross weight {gross[t, j]:.4g} on {market.dates[t]} exceeds the "
            f"leverage limit {max_leverage:g}"
        )
    decided = ~all_nan.all(axis=1)
    if frequency == "annual" and (decided & ~market.year_end).any():
        t = np.flatnonzero(decided & ~market.year_end)[0]
        raise StrategyError(
            f"strategy {label} is annual but decided on {market.dates[t]}, which is not the "
            "last trading day of its year"
        )
    if market.universe is not None:
        outside = ~market.universe[:, None, :] & ~nan & (targets != 0)
        if outside.any():
            t, _, i = np.argwhere(outside)[0]
            raise StrategyError(
                f"strategy {label}: weight on {market.tickers[i]} on {market.dates[t]}, which is not in the "
                "run's universe at that close (a member with a price at the last year end; see "
                "History.universe)"
            )
    no_price = np.isnan(market.close)[:, None, :] & ~nan & (targets != 0)
    if no_price.any():
        t, _, i = np.argwhere(no_price)[0]
        raise StrategyError(
            f"strategy {label}: weight on {market.tickers[i]} on {market.dates[t]}, "
            "a day without a price for it"
        )
