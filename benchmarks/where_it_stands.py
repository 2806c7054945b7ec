"""README's "Where it stands" table, generated from runs: lstm-stateful (10 seeds) on three bases.

    python benchmarks/where_it_stands.py          # prints the table's rows, as README has them

tests/test_readme_figures.py runs the same rows() and checks README against them.
"""

from __future__ import annotations

import engine

BASES = (
    ("total return, cash 0% (default)", {}),
    ("total return, cash 2% (`--cash-rate 0.02`)", {"cash_rate": 0.02}),
    ("price only, cash 0% (before dividends were added)", {"dividends": "exclude"}),
)


def pct(x: float, sign: bool = False) -> str:
    return f"{x * 100:+.2f}%" if sign else f"{x * 100:.2f}%"


def rows(runs_dir: str | None = None) -> list[str]:
    """One markdown row per basis: seed-mean CAGR, buy-and-hold, mean excess (95% interval), P."""
    out = []
    for label, fields in BASES:
        run = engine.run(strategies=["lstm-stateful"], runs_dir=runs_dir, **fields)
        result = run.result
        entry = result.strategies[0]
        ev = result.evidence[entry.name]
        low, high = ev.mean_excess_ci95
        out.append(
            f"| {label} | {pct(entry.aggregate.cagr_mean)} | {pct(result.benchmark.cagr)} | "
            f"{pct(ev.mean_excess_cagr, True)} [{pct(low, True)}, {pct(high, True)}] | "
            f"{ev.p_mean_excess_positive:.2f} |"
        )
    return out


if __name__ == "__main__":
    print("\n".join(rows()))
