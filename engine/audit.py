"""The look-ahead audit: a strategy's past weights must not change when the future does.

For each of several cut days c, the strategy is run again (1) on the data truncated
after c and (2) on the full data with everything after c perturbed (prices follow a
different random walk, feature rows get noise). Every weight decided on or before
c must be identical, bit for bit, to the weights of the unchanged full run. If any
differs, the strategy used information from after the close it decided at, and the
audit names the first such date.

A first check runs the full data twice: a strategy that is not deterministic for a
fixed seed cannot be audited (and breaks reproducibility), and is reported as such.
Cuts are spread evenly over the strategy's trading period (from its first
decision), on year ends for annual strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine.drive import generate_targets
from engine.timing import first_decision
from feeds.market import Market
from strategies.base import Strategy

PERTURB_SEED = 20240611
PERTURB_VOL = 0.02  # daily log-volatility of the substituted future


@dataclass(frozen=True)
class AuditReport:
    strategy: str
    passed: bool
    cut_dates: list[str]
    runs: int
    first_leak: str | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.passed:
            return (
                f"{self.strategy}: no look-ahead found ({len(self.cut_dates)} cuts: "
                f"{', '.join(self.cut_dates)}; {self.runs} runs)"
            )
        return f"{self.strategy}: LOOK-AHEAD: " + "; ".join(self.problems)


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    rows = np.flatnonzero(~same.reshape(len(a), -1).all(axis=1))
    return int(rows[0]) if rows.size else None


def perturb_after(market: Market, cut: int, seed: int = PERTURB_SEED) -> Market:
    """The market with prices and features after row ``cut`` replaced by another future."""
    rng = np.random.default_rng(seed)
    close = market.close.copy()
    future = len(close) - cut - 1
    if future > 0:
        steps = rng.normal(0.0, PERTURB_VOL, size=(future, close.shape[1]))
        close[cut + 1 :] = close[cut + 1 :] * np.exp(np.cumsum(steps, axis=0))
    features = {}
    for name, values in market.features.items():
        noisy = np.array(values, dtype=np.float64, copy=True)
        if future > 0:
            noisy[cut + 1 :] += rng.normal(0.0, 1.0, size=noisy[cut + 1 :].shape)
        features[name] = noisy
    return replace(market, close=close, features=features)


def audit(
    make: Callable[[], Strategy],
    market: Market,
    seeds: tuple[int, ...],
    *,
    cuts: int = 4,
    max_leverage: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Audit the strategy built by ``make`` (a fresh instance per run) on ``market``."""
    probe = make()
    label, frequency = probe.label(), probe.frequency
    say = progress or (lambda _msg: None)
    say("full data")
    full = generate_targets(make(), market, seeds, max_leverage=max_leverage).targets
    say("full data again (determinism)")
    again = generate_targets(make(), market, seeds, max_leverage=max_leverage).targets
    runs = 2
    row = _first_difference(full, again)
    if row is not None:
        date = str(market.dates[row])
        return AuditReport(
            label,
            False,
            [],
            runs,
            date,
            [
                f"two runs on the same data and seeds differ from {date} on: the strategy is not "
                "deterministic for a fixed seed, so it cannot be audited"
            ],
        )
    first = first_decision(full)
    if first is None:
        return AuditReport(label, False, [], runs, None, ["the strategy never decided on this data"])
    days = np.arange(market.n_days)
    eligible = market.year_end if frequency == "annual" else np.ones(market.n_days, dtype=bool)
    candidates = days[eligible & (days >= first) & (days <= market.n_days - 2)]
    if candidates.size == 0:
        return AuditReport(label, False, [], runs, None, ["no decision day with a future to perturb"])
    picks = np.unique(
        candidates[np.linspace(0, candidates.size - 1, num=min(cuts, candidates.size)).round().astype(int)]
    )
    leaks: list[tuple[int, str]] = []
    for i, cut in enumerate(picks):
        date = str(market.dates[cut])
        say(f"cut {i + 1}/{len(picks)} at {date}: truncated")
        truncated = generate_targets(make(), market.head(cut + 1), seeds, max_leverage=max_leverage).targets
        row = _first_difference(full[: cut + 1], truncated)
        if row is not None:
            leaks.append((row, f"weights on {market.dates[row]} change when the data ends at {date}"))
        say(f"cut {i + 1}/{len(picks)} at {date}: future perturbed")
        perturbed = generate_targets(
            make(), perturb_after(market, int(cut)), seeds, max_leverage=max_leverage
        ).targets
        row = _first_difference(full[: cut + 1], perturbed[: cut + 1])
        if row is not None:
            leaks.append((row, f"weights on {market.dates[row]} change when prices after {date} change"))
        runs += 2
    cut_dates = [str(market.dates[c]) for c in picks]
    if not leaks:
        return AuditReport(label, True, cut_dates, runs)
    leaks.sort()
    return AuditReport(
        label, False, cut_dates, runs, str(market.dates[leaks[0][0]]), [text for _, text in leaks]
    )
