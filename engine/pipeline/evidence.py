"""Is it a fluke? Statistical evidence for a strategy against buy-and-hold over the same days.

All figures use the daily returns of the stored equity curves over the run's
trading period (row t: equity[t] / equity[t-1] - 1, t >= 1).

1. **Excess CAGR, block bootstrap.** CAGR is the comparison table's: growth from
   the value before the opening trade (``initial``, 1.0) to the last close, over
   the period's real years, exp((log(equity[0] / initial) + sum log(1 + r)) * P / n) - 1
   with P = trading days per calendar year of the period (n days over its real
   years). The opening trade's costs (log(equity[0] / initial)) are a fixed part
   of every resample; the n daily returns are resampled. The mean over seeds of
   (CAGR_seed - CAGR_benchmark) is resampled with a circular block bootstrap
   (Politis and Romano 1992; Kuensch 1989): ceil(n / L) blocks of L consecutive
   days (default L = 20, about a trading month, to keep volatility clustering
   and short autocorrelation), the same day indices for every seed and the
   benchmark, so their dependence is kept. B = 2,000 resamples from a fixed
   seed; the interval is the 2.5% and 97.5% percentiles, and
   ``p_mean_excess_positive`` is the share of resamples with a positive mean
   excess. Assumes stationarity within the period.
2. **Paired test across seeds**: a one-sample t-test of the seeds' excess CAGRs
   against zero. All seeds trade the same market path, so it asks whether the
   result is robust to the initialization, not whether the market was lucky.
3. **Probabilistic Sharpe Ratio** (Bailey and Lopez de Prado 2012) of the best
   seed (the highest CAGR, :func:`engine.pipeline.metrics.best_column`, as everywhere):
   PSR(SR*) = Phi((SR - SR*) sqrt(n - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))
   with SR the per-day Sharpe ratio of the seed's daily returns in excess of the
   benchmark's (r_seed - r_benchmark: an information ratio, so "SR > 0" means
   "beats buy-and-hold"), g3 the skewness and g4 the (non-excess) kurtosis of
   those excess returns, SR* = 0. **Deflated Sharpe Ratio** (Bailey and Lopez de Prado 2014): the PSR
   with SR* = sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e))),
   the Sharpe ratio the best of N unskilled trials would reach by chance, where
   V is the variance of the N trials' per-day Sharpe ratios and gamma the
   Euler-Mascheroni constant. N counts every trial the best was chosen from
   (seeds x strategies of the run; a sweep's report, :func:`sweep_deflation`,
   counts every seed of every complete cell). DSR < 0.95 means the best result is
   within what chance gives for that many trials.
4. **Regression to the mean**: the period is split into ``folds`` contiguous
   parts; each seed's CAGR in one part against the next, and the Spearman rank
   correlation of the seeds between consecutive parts (near 0: the ranking of
   seeds does not persist; the best seed of the first half is not expected to
   stay best).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from engine.pipeline.metrics import best_column

# scipy.stats costs about 1 s of CPU to import on every run; the few functions used
# here are written with numpy and the standard library (scipy.special, lighter,
# for the t distribution only when a t-test is made).
_NORMAL = NormalDist()

EULER_GAMMA = 0.5772156649015329
BLOCK_DAYS = 20
RESAMPLES = 2000
BOOTSTRAP_SEED = 20240229


def daily_returns(equity: np.ndarray) -> np.ndarray:
    """(n - 1, members) simple returns of equity curves (n, members)."""
    equity = np.asarray(equity, dtype=np.float64)
    return equity[1:] / equity[:-1] - 1.0


def annual_growth(log_sum: np.ndarray, n: int, periods_per_year: float) -> np.ndarray:
    """exp(sum of log returns * P / n) - 1: CAGR from n daily log returns."""
    return np.expm1(log_sum * periods_per_year / n)


def block_bootstrap_excess(
    strategy: np.ndarray,
    benchmark: np.ndarray,
    periods_per_year: float,
    *,
    block: int = BLOCK_DAYS,
    resamples: int = RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    opening: np.ndarray | None = None,
) -> np.ndarray:
    """Resampled mean excess CAGR (resamples,) of ``strategy`` (n, seeds) over ``benchmark`` (n,).

    Circular block bootstrap with the same indices for every column; see the module
    docstring. ``opening`` (seeds + 1,): log growth of the opening trade per column
    (strategy seeds, then the benchmark), added to every resample.
    """
    logs = np.log1p(np.column_stack([strategy, benchmark]))  # (n, seeds + 1)
    n = len(logs)
    block = max(1, min(block, n))
    # sum of the L returns starting at each day, wrapping around the end
    wrapped = np.vstack([logs, logs[: block - 1]])
    cumulative = np.vstack([np.zeros((1, logs.shape[1])), np.cumsum(wrapped, axis=0)])
    block_sums = cumulative[block : block + n] - cumulative[:n]  # (n starts, cols)
    n_blocks = math.ceil(n / block)
    length = n_blocks * block
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    for lo in range(0, resamples, 250):  # chunks keep memory small
        starts = rng.integers(0, n, size=(min(250, resamples - lo), n_blocks))
        sums = block_sums[starts].sum(axis=1)  # (chunk, cols)
        if opening is not None:
            # resampled days scaled to the period's n days, plus the fixed opening trade
            sums = sums * (n / length) + opening
            growth = annual_growth(sums, n, periods_per_year)
        else:
            growth = annual_growth(sums, length, periods_per_year)
        out[lo : lo + len(growth)] = growth[:, :-1].mean(axis=1) - growth[:, -1]
    return out


def sharpe_moments(returns: np.ndarray) -> tuple[float, float, float]:
    """Per-period Sharpe ratio, skewness, non-excess kurtosis of one return series."""
    r = np.asarray(returns, dtype=np.float64)
    sd = r.std(ddof=1)
    sr = float(r.mean() / sd) if sd > 0 else 0.0
    return sr, *_skew_kurtosis(r)


def _skew_kurtosis(r: np.ndarray) -> tuple[float, float]:
    """Sample skewness and non-excess kurtosis, biased moments (as scipy.stats.skew and
    kurtosis(fisher=False)); NaN for a constant series."""
    centered = r - r.mean()
    m2 = float(np.mean(centered**2))
    if m2 <= (np.finfo(np.float64).eps * abs(float(r.mean()))) ** 2 or m2 == 0.0:
        return float("nan"), float("nan")
    m3 = float(np.mean(centered**3))
    m4 = float(np.mean(centered**4))
    return m3 / m2**1.5, m4 / m2**2


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties get their average rank (as scipy.stats.rankdata)."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation; NaN when either side is constant."""
    ra, rb = _ranks(a) - (len(a) + 1) / 2.0, _ranks(b) - (len(b) + 1) / 2.0
    denom = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def probabilistic_sharpe(sr: float, n: int, skew: float, kurt: float, sr_star: float = 0.0) -> float:
    """PSR: the probability that the true per-period Sharpe exceeds ``sr_star`` (module docstring, 3)."""
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    if n < 2 or denom <= 0:
        return float("nan")
    return _norm_cdf((sr - sr_star) * math.sqrt(n - 1) / math.sqrt(denom))


def expected_max_sharpe(trials: int, variance: float) -> float:
    """SR* of the DSR: the expected best per-period Sharpe of ``trials`` unskilled trials."""
    if trials < 2 or variance <= 0:
        return 0.0
    a = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    b = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return float(math.sqrt(variance) * ((1.0 - EULER_GAMMA) * a + EULER_GAMMA * b))


def deflated_sharpe(sr: float, n: int, skew: float, kurt: float, trials: int, variance: float) -> float:
    """DSR: the PSR against the best Sharpe that ``trials`` trials would reach by chance."""
    return probabilistic_sharpe(sr, n, skew, kurt, expected_max_sharpe(trials, variance))


def fold_ranks(strategy: np.ndarray, periods_per_year: float, folds: int = 2) -> dict[str, Any]:
    """Per-seed CAGR in each of ``folds`` contiguous parts and the rank correlation of consecutive parts."""
    logs = np.log1p(strategy)
    parts = np.array_split(np.arange(len(logs)), folds)
    growth = np.array([annual_growth(logs[p].sum(axis=0), len(p), periods_per_year) for p in parts])
    correlations = []
    for i in range(folds - 1):
        rho = _spearman(growth[i], growth[i + 1]) if strategy.shape[1] >= 3 else np.nan
        correlations.append(float(rho))
    return {
        "folds": folds,
        "cagr_by_fold": growth.T.tolist(),  # per seed: [fold 1, fold 2, ...]
        "rank_correlation": float(np.nanmean(correlations)) if correlations else None,
        "best_first_fold_rank_later": int(np.argsort(np.argsort(-growth[-1]))[int(np.argmax(growth[0]))]) + 1,
    }


def strategy_evidence(
    strategy_equity: np.ndarray,
    benchmark_equity: np.ndarray,
    seed_columns: list[int],
    dates: np.ndarray,
    *,
    trials: int,
    trial_sharpes: np.ndarray,
    folds: int = 2,
    initial: float = 1.0,
) -> dict[str, Any]:
    """The evidence block of one strategy against one benchmark (see the module docstring).

    ``strategy_equity`` (n, members) and ``benchmark_equity`` (n, 1) over the same
    days ``dates``; ``seed_columns`` pick the seed members; ``trials`` and
    ``trial_sharpes`` (per-day Sharpe ratios of every trial) feed the DSR.
    """
    seeds = daily_returns(strategy_equity)[:, seed_columns]
    bench = daily_returns(benchmark_equity)[:, 0]
    n = len(bench)
    years = float((dates[-1] - dates[0]).astype(np.int64)) / 365.25
    per_year = n / years if years > 0 else 252.0
    logs = np.log1p(np.column_stack([seeds, bench]))
    first = np.concatenate(
        [np.asarray(strategy_equity)[0, seed_columns], np.asarray(benchmark_equity)[0, :1]]
    )
    opening = np.log(first / initial)
    growth = annual_growth(logs.sum(axis=0) + opening, n, per_year)
    excess = growth[:-1] - growth[-1]
    boot = block_bootstrap_excess(seeds, bench, per_year, opening=opening)
    low, high = np.percentile(boot, [2.5, 97.5])
    out: dict[str, Any] = {
        "method": (
            f"circular block bootstrap of daily returns, blocks of {BLOCK_DAYS} days, {RESAMPLES} resamples, "
            f"same days for seeds and benchmark; CAGR as in the comparison table (from the value before the "
            f"opening trade, {per_year:.1f} trading days a year); "
            "PSR/DSR (Bailey & Lopez de Prado) on daily returns in excess of the benchmark"
        ),
        "excess_cagr_by_seed": excess.tolist(),
        "mean_excess_cagr": float(excess.mean()),
        "mean_excess_ci95": [float(low), float(high)],
        "p_mean_excess_positive": float(np.mean(boot > 0)),
        "share_seeds_beating": float(np.mean(excess > 0)),
    }
    if len(excess) >= 2 and np.std(excess) > 0:
        out["paired_t"] = _paired_t(excess)
    out["best_seed"] = _best_seed(seeds, bench, growth, per_year, trials, trial_sharpes)
    if seeds.shape[1] >= 3:
        out["regression_to_mean"] = fold_ranks(seeds, per_year, folds)
    return out


def _paired_t(excess: np.ndarray) -> dict[str, Any]:
    """Two-sided one-sample t test of the seeds' excess CAGRs against 0 (as scipy's ttest_1samp)."""
    from scipy.special import stdtr

    t = float(excess.mean() / (excess.std(ddof=1) / math.sqrt(len(excess))))
    p_value = float(2.0 * stdtr(len(excess) - 1, -abs(t)))
    return {"t": t, "p_value": p_value, "seeds": len(excess)}


def _best_seed(
    seeds: np.ndarray,
    bench: np.ndarray,
    growth: np.ndarray,
    per_year: float,
    trials: int,
    trial_sharpes: np.ndarray,
) -> dict[str, Any]:
    """The best seed by CAGR (``growth``: seeds' CAGRs, then the benchmark's): its daily excess
    Sharpe ratio (``seeds``, ``bench``: daily returns), PSR and DSR over ``trials`` trials."""
    n = len(bench)
    best = best_column(growth[:-1])
    sr, skew, kurt = sharpe_moments(seeds[:, best] - bench)
    variance = float(np.var(trial_sharpes, ddof=1)) if len(trial_sharpes) >= 2 else 0.0
    psr = probabilistic_sharpe(sr, n, skew, kurt)
    dsr = deflated_sharpe(sr, n, skew, kurt, trials, variance)
    return {
        "column": best,
        "cagr": float(growth[best]),
        "excess_sharpe_daily": sr,
        "excess_sharpe_annual": sr * math.sqrt(per_year),
        "skew": skew,
        "kurtosis": kurt,
        "psr": psr,
        "dsr": dsr,
        "trials": trials,
        "expected_max_sharpe_annual": expected_max_sharpe(trials, variance) * math.sqrt(per_year),
        "verdict": (
            "within what chance gives for that many trials"
            if not dsr >= 0.95
            else "unlikely to be the luck of the best of that many trials (DSR >= 0.95)"
        ),
    }


def sweep_deflation(cells: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """The best seed of each cell of a sweep, deflated for every seed of every cell as the trials.

    ``cells``: per complete cell, its strategy's seed curves (n, seeds) and its primary
    benchmark's curve (n,), equity at each close of the cell's period. The best seed is the
    highest CAGR (:func:`engine.pipeline.metrics.best_column`; over the cell's one period and
    starting value, the highest final value). Per cell: ``column`` (the best seed's column),
    ``excess_sharpe_annual`` (its per-day Sharpe ratio of returns in excess of the benchmark's,
    times sqrt(252)), ``psr``, ``dsr`` (module docstring, 3) and ``trials``.
    """
    excess_of = [daily_returns(seeds) - daily_returns(np.asarray(bench)[:, None]) for seeds, bench in cells]
    sharpes = [sharpe_moments(e[:, j])[0] for e in excess_of for j in range(e.shape[1])]
    trials = len(sharpes)
    variance = float(np.var(sharpes, ddof=1)) if trials >= 2 else 0.0
    out = []
    for (seeds, _), excess in zip(cells, excess_of, strict=True):
        best = best_column(np.asarray(seeds)[-1])
        sr, skew, kurt = sharpe_moments(excess[:, best])
        n = len(excess)
        out.append(
            {
                "column": best,
                "excess_sharpe_annual": sr * math.sqrt(252),
                "psr": probabilistic_sharpe(sr, n, skew, kurt),
                "dsr": deflated_sharpe(sr, n, skew, kurt, trials, variance),
                "trials": trials,
            }
        )
    return out
