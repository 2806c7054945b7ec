"""The look-ahead audit's report: its finding, the first changed decision, and the verdict from the passes.

The audit itself (what is run, and why) is :mod:`engine.workflows.audit`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AuditReport:
    """The audit's outcome.

    ``finding``: ``"pass"``, ``"look-ahead"``, ``"nondeterministic"``, ``"error"``
    (a pass raised) or ``"no-decision"``. ``first_leak``: the first day whose
    decision changed (ISO date), when there is one. ``seed``: the seed of the
    replacement futures.
    """

    strategy: str
    passed: bool
    cut_dates: list[str]
    runs: int
    first_leak: str | None = None
    problems: list[str] = field(default_factory=list)
    finding: str = "pass"
    seed: int | None = None

    def summary(self) -> str:
        seed = f"; replacement futures from seed {self.seed}" if self.seed is not None else ""
        if self.passed:
            return (
                f"{self.strategy}: no look-ahead found ({len(self.cut_dates)} cuts: "
                f"{', '.join(self.cut_dates)}; {self.runs} runs, each in a fresh process{seed})"
            )
        head = {
            "look-ahead": f"LOOK-AHEAD: first changed decision on {self.first_leak}",
            "nondeterministic": "NOT DETERMINISTIC (not a look-ahead finding; the audit cannot judge it)",
            "error": "ERROR while auditing",
            "no-decision": "NO DECISION to audit",
        }[self.finding]
        more = f" (and {len(self.problems) - 1} more: see --json)" if len(self.problems) > 1 else ""
        return f"{self.strategy}: {head}: {self.problems[0]}{more}{seed}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(
    label: str,
    dates: np.ndarray,
    cut_dates: list[str],
    runs: int,
    leaks: list[tuple[int, str]],
    errors: list[str],
    seed: int,
) -> AuditReport:
    """Look-ahead when a past decision changed (the first changed day named), else error, else pass."""
    if leaks:
        leaks = sorted(leaks)
        problems = [text for _, text in leaks] + errors
        return AuditReport(
            label, False, cut_dates, runs, str(dates[leaks[0][0]]), problems, "look-ahead", seed
        )
    if errors:
        return AuditReport(label, False, cut_dates, runs, None, errors, "error", seed)
    return AuditReport(label, True, cut_dates, runs, seed=seed)
