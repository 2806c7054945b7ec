"""The implausibility flag: skill that no honest daily strategy shows, flagged in every run.

A strategy that reads the future from outside the data it is given (a price file,
a web service) decides the same whatever the data, so the look-ahead audit cannot
see it. Its results can: knowing tomorrow gives a Sharpe ratio far beyond any
honest strategy's. Test, per member (seed) of each strategy, on its daily returns
over the run's trading period (row t: equity[t] / equity[t-1] - 1):

- observed annualized Sharpe ratio (mean / standard deviation of daily returns,
  times sqrt(trading days per year of the period)) of at least ``SHARPE_FLAG`` = 3,
- and the Probabilistic Sharpe Ratio (Bailey and Lopez de Prado 2012, with the
  returns' skewness and kurtosis) that the true annualized Sharpe exceeds
  ``SHARPE_CEILING`` = 2 is at least ``CONFIDENCE`` = 0.999.

Why these numbers: buy-and-hold of a broad index has had an annualized Sharpe of
about 0.3 to 0.6 over decades; daily timing strategies that survive costs rarely
sustain 1, and none on public index data sustains 2 for years. The PSR condition
keeps short runs, where a Sharpe of 3 happens by luck, from being flagged: one
year at Sharpe 3 gives PSR(> 2) of about 0.84, not flagged; ten years at 3 is
flagged. A flagged run prints a warning, carries it in ``notes`` and in the
strategy's evidence block (whose verdict then no longer says "unlikely to be the
luck ..."), and asks for ``backtest audit``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.pipeline.evidence import daily_returns, probabilistic_sharpe, sharpe_moments

SHARPE_FLAG = 3.0
SHARPE_CEILING = 2.0
CONFIDENCE = 0.999


def implausible(equity: np.ndarray, dates: np.ndarray) -> dict[str, Any] | None:
    """The most implausible member of one strategy, or None when none is flagged.

    ``equity``: (n_days, members) equity curves over the trading period ``dates``
    (``datetime64[D]``). Returns the member column, its annualized Sharpe and the PSR.
    """
    returns = daily_returns(equity)
    n = len(returns)
    years = float((dates[-1] - dates[0]).astype(np.int64)) / 365.25 if len(dates) > 1 else 0.0
    if n < 20 or years <= 0:
        return None
    per_year = n / years
    worst: dict[str, Any] | None = None
    for column in range(returns.shape[1]):
        r = returns[:, column]
        if not np.isfinite(r).all() or r.std(ddof=1) == 0:
            continue
        sr, skew, kurt = sharpe_moments(r)
        annual = sr * math.sqrt(per_year)
        psr = probabilistic_sharpe(sr, n, skew, kurt, SHARPE_CEILING / math.sqrt(per_year))
        if annual >= SHARPE_FLAG and psr >= CONFIDENCE and (worst is None or annual > worst["sharpe_annual"]):
            worst = {"column": column, "sharpe_annual": annual, "psr_above_ceiling": psr, "days": n}
    return worst


def warning_text(name: str, member: object, found: dict[str, Any]) -> str:
    """The one-line warning for a flagged strategy."""
    return (
        f"WARNING implausible: {name} (member {member}) has an annualized Sharpe ratio of "
        f"{found['sharpe_annual']:.2f} over {found['days']} days (PSR that the true Sharpe exceeds "
        f"{SHARPE_CEILING:g}: {found['psr_above_ceiling']:.4f}); no honest daily strategy shows that on "
        f"index data. Suspect look-ahead: run `backtest audit` on {name}; a strategy that reads data files "
        "or services itself can pass the audit"
    )


def flag_run(results: Any, evidence: dict[str, Any], dates: np.ndarray) -> list[str]:
    """Warnings for every flagged strategy in ``results`` (StrategyResults); marks their evidence blocks."""
    notes = []
    for result in results:
        found = implausible(result.equity, dates)
        if found is None:
            continue
        text = warning_text(result.name, result.members[found["column"]], found)
        notes.append(text)
        block = evidence.get(result.name)
        if block is not None:
            block["implausible"] = {**found, "member": str(result.members[found["column"]])}
            block["best_seed"]["verdict"] = (
                "IMPLAUSIBLE: suspect look-ahead (see the warning); run backtest audit"
            )
    return notes
