"""The strategy contract: what a strategy declares and the three styles the engine drives.

Every strategy, built-in or plugin, subclasses one of the styles below and declares:

- ``name`` (registry name) and ``summary`` (one line for listings);
- ``frequency``: ``"daily"`` (may decide at every close) or ``"annual"`` (decides
  only at the last close of each calendar year; ``history.year_end`` marks those days);
- ``stochastic``: whether results depend on a seed; stochastic strategies produce
  one portfolio per seed (optionally plus an ``"ensemble"`` member) in one call;
- ``Params``: a :class:`StrategyParams` model with typed, validated parameters.

Output convention (the timing convention of :mod:`engine.pipeline.timing`): target weights
decided at the close of day t, one row per day, one column per ticker, as fractions
of portfolio value (1.0 = fully invested, negative = short). They are held over
(t, next decision]. A row of NaN means "no decision: keep holding what you have";
a row is either all NaN or all finite. Before its first decision a strategy is in
cash (warm-up).

Styles:

- :class:`RuleStrategy`: ``target_weights(history)`` returns all rows at once from the
  whole history; it must be causal (row t from rows <= t), which the audit checks.
- :class:`OnlineStrategy`: driven day by day. At each close the engine first calls
  ``learn(history)`` with the history that now includes the day's realized delta
  (not on the first day), then ``decide(history)`` for that day's weights.
- :class:`WalkForwardStrategy`: ``fit(history)`` on each retrain day (default: the
  last close of each year), then ``decide(history)`` every day until the next one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import numpy as np

from strategies.history import History
from strategies.params import StrategyParams, build_params

API_VERSION = 1
Frequency = Literal["daily", "annual"]
Member = int | str  # a seed, or a label such as "main" (deterministic) or "ensemble"
MAIN = "main"
ENSEMBLE = "ensemble"


class Strategy(ABC):  # noqa: B024 - abstract through its styles
    """Common base: declarations and parameter handling. Subclass a style, not this."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    frequency: ClassVar[Frequency] = "daily"
    stochastic: ClassVar[bool] = False
    api_version: ClassVar[int] = API_VERSION
    Params: ClassVar[type[StrategyParams]] = StrategyParams

    def __init__(self, params: StrategyParams | Mapping[str, Any] | None = None) -> None:
        if isinstance(params, StrategyParams):
            if not isinstance(params, self.Params):
                raise TypeError(f"{self.label()} expects {self.Params.__name__}, got {type(params).__name__}")
            self.params = params
        else:
            self.params = build_params(self.Params, params or {}, self.label())

    @classmethod
    def label(cls) -> str:
        """The name used in messages: the registry name, else the class name."""
        return cls.name or cls.__name__

    def warm_up(self) -> tuple[str, Callable[[], None]] | None:
        """Work to start early, while the data loads: ``(what it is, a function)``, or None.

        For compiled code that a fresh install compiles on first use (seconds to a
        minute): :func:`engine.pipeline.prepare.prepare` runs the function in a background
        thread, reports the description as a progress stage when the data is ready
        before it is done, and waits for it. It must not touch the strategy's state:
        what it computes is thrown away (compiling does not change any result).
        """
        return None

    def members(self, seeds: tuple[int, ...]) -> tuple[Member, ...]:
        """Labels of the portfolios this strategy produces, in output order.

        Deterministic strategies produce one (``"main"``); stochastic ones one per
        seed. Override to add e.g. ``"ensemble"`` after the seeds.
        """
        return tuple(seeds) if self.stochastic else (MAIN,)


class RuleStrategy(Strategy):
    """A causal function of the past to target weights, computed for all days at once."""

    @abstractmethod
    def target_weights(self, history: History, seeds: tuple[int, ...]) -> np.ndarray:
        """Targets decided at each close.

        Returns shape (n_days, n_tickers) for one member, or (n_days, n_members,
        n_tickers). Row t may use only rows <= t of ``history``.
        """


class _DayByDay(Strategy):
    """What the engine's day-by-day driver calls besides ``decide`` (online and walk-forward)."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        """Set up before the first day; ``history`` holds day 0 only."""

    def learn(self, history: History) -> None:
        """The delta of ``history.today`` is now known: update state (called before ``decide``)."""

    def end(self) -> None:
        """Called after the last day (also after a failure): release big resources here."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue later (checkpoints); empty if not supported."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (called right after ``begin``)."""
        raise NotImplementedError(f"{self.label()} does not support checkpoints")


class OnlineStrategy(_DayByDay):
    """Driven day by day, carrying state; learns from each realized delta after the fact."""

    @abstractmethod
    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        """Set up state (models, optimizers) before the first day; ``history`` holds day 0 only."""

    @abstractmethod
    def decide(self, history: History) -> np.ndarray:
        """Targets at the close of ``history.today``: shape (n_members, n_tickers), NaN = hold."""


class WalkForwardStrategy(_DayByDay):
    """Fit on the past at each retrain day, predict every day until the next.

    Per day t the engine calls ``learn`` (t > 0; optional fine-tuning on the newly
    realized delta), then ``fit`` if t is a retrain day, then ``decide`` once the
    strategy has been fitted at least once.
    """

    def is_retrain_day(self, history: History) -> bool:
        """Whether to (re)fit at the close of ``history.today``; default: the last close of each year."""
        return bool(history.year_end[-1])

    @abstractmethod
    def fit(self, history: History, seeds: tuple[int, ...]) -> None:
        """Fit on rows 0..t of ``history`` (t = today, inclusive)."""

    @abstractmethod
    def decide(self, history: History) -> np.ndarray:
        """Targets at today's close, shape (n_members, n_tickers); NaN = hold.

        Not called before the first fit.
        """
