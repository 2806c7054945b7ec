"""The look-ahead audit: a strategy's past weights must not change when the future does.

Passes, each in a fresh process (one pass per process, forked from an interpreter that
has only imported the modules, or a fresh ``python`` where there is no fork;
:mod:`engine.workflows.audit_passes`) so that no module state, cache or memo can carry
answers from one pass to another, and each given only the data of its pass (pickled to
the child; nothing else is in its memory):

1. the full data, twice. If the two runs differ the strategy is not deterministic
   for a fixed seed ("two identical runs differ: unseeded randomness?"): reported
   as its own finding, not as look-ahead, since nothing can be compared then;
2. for each cut day c: (a) the data truncated after c, as real copies
   (:meth:`feeds.market.Market.head`), and (b) the full length with everything
   after c replaced by another future (:func:`replace_future`). Every weight
   decided on or before c must equal, bit for bit, the weight of the full run.

The first day whose decision changed is named. Cuts are spread evenly over the
strategy's trading period (from its first decision; on year ends for annual
strategies). The replacement future is drawn from a random seed per audit,
printed with the result, so a strategy cannot be tuned to one fixed path; pass
``seed`` to reproduce an audit.

Day-by-day strategies are driven only through the cut in pass 2 (later decisions
are not compared), which keeps the audit's cost near 2 + cuts full runs.

What the audit cannot see: a strategy that gets the real future from outside the
data it is given (e.g. reading a price file itself) decides the same in every
pass. The implausibility flag of every run (:mod:`engine.pipeline.plausibility`) is the
check for that.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.pipeline.progress import Progress
from engine.pipeline.timing import first_decision
from engine.workflows.audit_passes import ForkServer, Passes, Submit, can_fork, pass_environment
from engine.workflows.audit_report import AuditReport, verdict
from feeds.errors import InputError
from feeds.market import Market
from strategies.base import Strategy
from strategies.registry import resolve, spec_of

DEFAULT_CUTS = 8
BLOCK_DAYS = 20  # resampled blocks keep about a month of volatility clustering
MAX_DROP = 0.95  # a replaced delta never takes a price to zero or below


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    rows = np.flatnonzero(~same.reshape(len(a), -1).all(axis=1))
    return int(rows[0]) if rows.size else None


def replace_future(market: Market, cut: int, seed: int) -> Market:
    """``market`` with every row after ``cut`` replaced by another future.

    Deltas after the cut: magnitudes resampled in blocks of ``BLOCK_DAYS`` days
    from the whole data (same days for every ticker), each with the direction
    opposite to the real delta of that day (a real 0 becomes a fall), so every
    future day moves differently from reality. Closes are rebuilt from the last
    close at or before the cut; open/high/low keep their ratio to the close;
    volume and feature rows come from the resampled days. Days without a bar stay
    without one; dates and the calendar are unchanged (they are known ahead).
    """
    n, k = market.close.shape
    m = n - cut - 1
    if m <= 0:
        return market
    rng = np.random.default_rng(seed)
    real = market.deltas
    starts = rng.integers(1, max(2, n - BLOCK_DAYS + 1), size=-(-m // BLOCK_DAYS))
    source = (starts[:, None] + np.arange(BLOCK_DAYS)[None, :]).ravel()[:m]
    source = np.minimum(source, n - 1)
    future = real[cut + 1 :]
    size = np.abs(real[source])
    size = np.where(np.isnan(size), np.abs(future), size)
    size = np.where(np.isnan(size), 0.01, size)
    direction = np.where(future > 0, -1.0, 1.0)
    deltas = np.clip(direction * size, -MAX_DROP, None)
    close = market.close.copy()
    last = _last_known(market.close[: cut + 1])
    fresh = np.isnan(last)  # tickers without a bar yet: their first level is made up too
    last = np.where(fresh, np.nanmean(market.close[: cut + 1]) if cut >= 0 else 100.0, last)
    last = np.where(np.isnan(last), 100.0, last) * np.where(fresh, np.exp(rng.normal(0, 0.5, k)), 1.0)
    for i in range(m):
        row = cut + 1 + i
        has_bar = ~np.isnan(market.close[row])
        moved = np.where(np.isnan(future[i]), last, last * (1.0 + deltas[i]))
        close[row] = np.where(has_bar, moved, np.nan)
        last = np.where(has_bar, moved, last)
    bars = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = close[cut + 1 :] / market.close[cut + 1 :]
    for name, values in market.bars.items():
        new = values.copy()
        new[cut + 1 :] = values[source] if name == "volume" else values[cut + 1 :] * ratio
        bars[name] = new
    features = {}
    for name, values in market.features.items():
        new = np.array(values, copy=True)
        new[cut + 1 :] = values[source]
        features[name] = new
    return replace(market, close=close, bars=bars, features=features)


def _last_known(close: np.ndarray) -> np.ndarray:
    """Per ticker, the last non-NaN close of ``close`` (n, k); NaN where there is none."""
    valid = ~np.isnan(close)
    idx = np.where(valid.any(axis=0), len(close) - 1 - np.argmax(valid[::-1], axis=0), 0)
    out = close[idx, np.arange(close.shape[1])]
    return np.where(valid.any(axis=0), out, np.nan)


def audit(
    strategy: str | type[Strategy] | Callable[[], Strategy],
    market: Market,
    seeds: tuple[int, ...],
    *,
    params: Mapping[str, Any] | None = None,
    cuts: int = DEFAULT_CUTS,
    max_leverage: float = 1.0,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit ``strategy`` on ``market``.

    ``strategy``: a registered name, ``module:Class``, ``file.py:Class``, a class, or
    a factory returning an instance (its class and parameters are used: each pass
    builds its own instance from them in its own process). ``params``: the
    strategy's parameters (default: the factory's, else the defaults); ``seed``: the replacement futures' seed
    (default: a fresh random one, reported); ``workers``: processes at a time
    (default: the CPU count). ``progress``: the determinism stage (0 of 2 passes),
    then ``"passes"`` in cut passes finished. See the module docstring for what is run.
    """
    spec, values, label, frequency = _strategy(strategy, params)
    seed = secrets.randbelow(2**31) if seed is None else seed
    passes = Passes(spec, values, seeds, max_leverage, pass_environment())
    say = progress or (lambda _stage, _done, _total: None)
    with (
        tempfile.TemporaryDirectory(prefix="stockrnn-audit-") as tmp,
        ForkServer(spec, passes.environment) if can_fork() else nullcontext() as server,
        ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as threads,
    ):
        submit = passes.submitter(threads, Path(tmp), server)
        say(DETERMINISM, 0, 2)
        full, finding = _full_twice(submit, passes, market)
        if finding is not None:
            return AuditReport(label, False, [], 2, None, [finding[1]], finding[0], seed)
        assert full is not None
        first = first_decision(full)
        picks = np.array([], dtype=int) if first is None else cut_days(market, frequency, first, cuts)
        if picks.size == 0:
            problem = "the strategy never decided on this data" if first is None else NO_CUT
            return AuditReport(label, False, [], 2, None, [problem], "no-decision", seed)
        leaks, errors = _cut_passes(submit, passes, market, full, picks, seed, say)
    cut_dates = [str(market.dates[c]) for c in picks]
    return verdict(label, market.dates, cut_dates, 2 + 2 * int(picks.size), leaks, errors, seed)


DETERMINISM = "full data, twice (determinism), each in a fresh process"
NO_CUT = "no decision day with a future to replace"


def _strategy(
    strategy: str | type[Strategy] | Callable[[], Strategy], params: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any], str, str]:
    """(spec a fresh process resolves, full parameters, label, frequency) of the audited strategy."""
    if not isinstance(strategy, str | type):
        made = strategy()
        strategy = type(made)
        params = made.params.model_dump() if params is None else params
    spec = strategy if isinstance(strategy, str) else spec_of(strategy)
    if spec.startswith("__main__:"):
        raise InputError(
            f"strategy {spec}: a class defined in the script being run cannot be rebuilt in the audit's "
            "fresh processes; move it to a module or a file and pass module:Class or file.py:Class"
        )
    probe = resolve(spec)(dict(params or {}))
    return spec, probe.params.model_dump(), probe.label(), probe.frequency


def _full_twice(
    submit: Submit, passes: Passes, market: Market
) -> tuple[np.ndarray | None, tuple[str, str] | None]:
    """The full run's targets, or (finding, problem) when a run failed or the two runs differ."""
    full_f, again_f = submit(passes.job("full", market)), submit(passes.job("again", market))
    (status, full), (status2, again) = full_f.result(), again_f.result()
    if status != "ok" or status2 != "ok":
        return None, ("error", f"on the full data: {full if status != 'ok' else again}")
    assert isinstance(full, np.ndarray) and isinstance(again, np.ndarray)
    row = _first_difference(full, again)
    if row is not None:
        return None, (
            "nondeterministic",
            f"two identical runs (same data, same seeds) differ from {market.dates[row]} on: unseeded "
            "randomness? Seed every generator from the seeds given to the strategy; until then no "
            "look-ahead test is possible",
        )
    return full, None


def _cut_passes(
    submit: Submit,
    passes: Passes,
    market: Market,
    full: np.ndarray,
    picks: np.ndarray,
    seed: int,
    say: Progress,
) -> tuple[list[tuple[int, str]], list[str]]:
    """Per cut, the truncated and the replaced pass; (first changed row, text) of leaks, and errors."""
    futures = {}
    for c in sorted((int(c) for c in picks), reverse=True):  # longest first: no worker idles at the end
        futures[c, "truncated"] = submit(passes.job("truncated", market.head(c + 1), c))
        futures[c, "replaced"] = submit(passes.job("replaced", replace_future(market, c, seed + c), c, c))
    for i, _ in enumerate(as_completed(futures.values())):
        say("passes", i + 1, len(futures))
    leaks: list[tuple[int, str]] = []
    errors: list[str] = []
    for c, kind in ((int(c), kind) for c in picks for kind in ("truncated", "replaced")):
        status, result = futures[c, kind].result()  # reported in the order of the cuts
        date = str(market.dates[c])
        if status != "ok":
            errors.append(f"when {_what(kind, date)}: {result}")
            continue
        assert isinstance(result, np.ndarray)
        row = _first_difference(full[: c + 1], result[: c + 1])
        if row is not None:
            leaks.append((row, f"the decision on {market.dates[row]} changed when {_what(kind, date)}"))
    return leaks, errors


def _what(kind: str, date: str) -> str:
    if kind == "truncated":
        return f"the data end at {date}"
    return f"the days after {date} are replaced by another future"


def cut_days(market: Market, frequency: str, first: int, cuts: int) -> np.ndarray:
    """Up to ``cuts`` cut rows spread evenly over [first, n_days - 2] (year ends for annual strategies)."""
    days = np.arange(market.n_days)
    eligible = market.year_end if frequency == "annual" else np.ones(market.n_days, dtype=bool)
    candidates = days[eligible & (days >= first) & (days <= market.n_days - 2)]
    if candidates.size == 0:
        return candidates
    index = np.linspace(0, candidates.size - 1, num=min(cuts, candidates.size)).round().astype(int)
    return np.unique(candidates[index])
