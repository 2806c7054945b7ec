"""The evidence block against the benchmark as plain lines (no markup: each surface styles them by kind)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.rows.format import NA, num, pct
from engine.rows.run import basis_line
from engine.store.result_schema import RunResult

# --- picks of annual strategies ---------------------------------------


@dataclass(frozen=True)
class Line:
    """A plain text line; ``kind`` says how a surface may stress it.

    ``heading``: ``head`` is the stressed part, ``text`` follows it; ``note``: a
    muted line (method, basis); ``text``: the body.
    """

    text: str
    kind: Literal["heading", "text", "note"] = "text"
    head: str = ""

    @property
    def plain(self) -> str:
        return self.head + self.text


def evidence_lines(result: RunResult) -> list[Line]:
    """The short 'is it a fluke?' block under the comparison table (see engine.pipeline.evidence)."""
    if not result.evidence:
        return []
    lines = [Line(" (same days; daily returns)", "heading", f"Evidence vs {result.benchmark.name}")]
    for name, ev in result.evidence.items():
        # any figure can be undefined (None), e.g. PSR when the excess returns never vary
        # (a strategy that is buy-and-hold): printed as '—'
        low, high = ([*ev.mean_excess_ci95, None, None])[:2]
        seeds = len(ev.excess_cagr_by_seed)
        text = (
            f"  {name}: mean excess CAGR {pct(ev.mean_excess_cagr, True)}, 95% CI "
            f"[{pct(low, True)}, {pct(high, True)}], P(excess > 0) {num(ev.p_mean_excess_positive)}"
        )
        if seeds > 1:
            text += f"; {pct(ev.share_seeds_beating, digits=0)} of {seeds} seeds beat it"
            if ev.paired_t is not None:
                text += f" (paired t across seeds {p_text(ev.paired_t.p_value)})"
        lines.append(Line(text))
        best = ev.best_seed
        who = f"best seed {best.seed}" if seeds > 1 else "its"
        lines.append(
            Line(
                f"    {who}: excess Sharpe {num(best.excess_sharpe_annual)}/yr, "
                f"PSR {num(best.psr)}, "
                f"DSR {num(best.dsr)} over {best.trials} trial(s) (chance alone reaches Sharpe "
                f"{num(best.expected_max_sharpe_annual)}): {best.verdict or NA}"
            )
        )
        ranks = ev.regression_to_mean
        if ranks and ranks.rank_correlation is not None:
            lines.append(
                Line(
                    f"    seed ranks, first vs second half: Spearman {ranks.rank_correlation:+.2f}; the best "
                    f"first-half seed ranks {ranks.best_first_fold_rank_later} of {seeds} in the second"
                )
            )
    first = next(iter(result.evidence.values()))
    lines.append(Line(f"  method: {first.method}", "note"))
    lines.append(Line(f"  {basis_line(result)}", "note"))
    return lines


def p_text(p: float | None) -> str:
    """A p-value as people read it: ``p = 0.042``, ``p < 0.001`` below the third decimal."""
    if p is None:
        return "p = —"
    return "p < 0.001" if p < 0.0005 else f"p = {num(p, 3)}"
