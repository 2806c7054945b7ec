"""Point-in-time universes in a run: the eligibility mask, its coverage, and what it does and does not fix.

``--universe`` (annual runs only) restricts what annual strategies may buy at
every decision close (each year's last close) to the tickers that were members
of the universe that day and have a price there (:mod:`feeds.universe`). The
mask travels with the market (``Market.universe``, ``History.universe``):
built-in strategies pick from it, the engine rejects a weight outside it
(:func:`engine.pipeline.drive.check_targets`), and the equal-weight buy-and-hold benchmark
holds exactly the members with prices at the last year end (rebalanced when that
set changes). The index benchmark (e.g. ^GSPC) is not affected.

Coverage: every run with a universe states the share of members with prices
per year (its lowest year in the notes) and warns when any year falls below
``COVERAGE_WARN`` (90%, :data:`feeds.universe_fetch.COVERAGE_WARN`). Why 90%:
the names a price file lacks are mostly the delisted, acquired and bankrupt
ones (Yahoo no longer serves them), the losers of their years; a tenth of the
index missing that way is already enough to lift an equal-weight result by a
visible margin, so below that the result is survivorship-biased upward and must
be read as an upper bound. ``backtest data fetch --universe sp500`` fills the
cache with every member Yahoo still serves; ``backtest data coverage`` shows
what is left missing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from feeds.errors import InputError
from feeds.market import Market
from feeds.universe import parse_universe, universe_mask
from feeds.universe_fetch import COVERAGE_WARN

SHOWN_MISSING = 8  # tickers named per year in the terminal; --json lists all


def apply_universe(market: Market, spec: str, frequency: str) -> tuple[Market, dict[str, Any]]:
    """``market`` with its ``universe`` mask set from ``spec``, and the JSON block ``universe``.

    Decision closes are the year ends of ``market`` (``Market.year_end``); one
    before the membership data start raises :class:`InputError`.
    """
    if frequency != "annual":
        raise InputError(
            f"--universe {spec}: a universe restricts annual stock picks; use it with --frequency annual"
        )
    universe = parse_universe(spec)
    # every year end is a decision close, the last row too when it is one (a daily update goes on from
    # there, and must find the same mask as a run over the longer data)
    rows = np.flatnonzero(market.year_end)
    mask, coverage = universe_mask(universe, market.dates, market.tickers, market.close, rows)
    by_year = {}
    for row, entry in zip(rows, coverage, strict=True):
        by_year[str(int(str(market.dates[row])[:4]) + 1)] = entry  # labelled by the year held, like picks
    info = {**universe.identity(), "coverage": by_year}
    if universe.end is not None:
        late = [e["decision_close"] for e in coverage if e["decision_close"] > universe.end.isoformat()]
        info["after_data_end"] = late  # decisions that used the last known membership
    return replace(market, universe=mask), info


def universe_notes(info: dict[str, Any]) -> list[str]:
    """Run notes: what the universe fixes and what it does not, and where its data end."""
    coverage = info["coverage"].values()
    members = [e["members"] for e in coverage]
    priced = [e["with_prices"] for e in coverage]
    share = f"{np.mean(priced):.1f} of {np.mean(members):.0f}" if members else "none"
    notes = [
        f"universe {info['spec']}: {info['description']}. Picks and the equal-weight benchmark are limited, "
        "at each decision close, to that day's members with a price in the data: this removes choosing "
        "among today's survivors with hindsight. It does not fix the price file: members missing from it "
        f"(delisted, acquired, renamed) can be neither picked nor held (on average {share} members had "
        "prices; see the coverage per year), and the index benchmark is unaffected"
    ]
    notes.extend(coverage_notes(info))
    if info.get("after_data_end"):
        notes.append(
            f"universe {info['spec']}: membership data end {info['end']}; decisions on "
            f"{', '.join(info['after_data_end'])} use the last known members"
        )
    return notes


def coverage_notes(info: dict[str, Any], threshold: float = COVERAGE_WARN) -> list[str]:
    """The lowest share of members with prices (per year held); a warning if a year is below ``threshold``."""
    shares = {year: e["with_prices"] / e["members"] for year, e in info["coverage"].items() if e["members"]}
    if not shares:
        return []
    low_year = min(shares, key=lambda y: (shares[y], y))
    notes = [
        f"universe {info['spec']}: coverage {min(shares.values()):.1%} of members with prices at the "
        f"lowest ({low_year}), {sum(shares.values()) / len(shares):.1%} on average over {len(shares)} years"
    ]
    below = sorted(y for y, v in shares.items() if v < threshold)
    if below:
        notes.append(
            f"warning: universe {info['spec']}: fewer than {threshold:.0%} of members have prices in "
            f"{len(below)} of {len(shares)} years ({below[0]}..{below[-1]}); the missing names are mostly "
            "delisted or acquired ones (survivorship), which biases the result upward: fetch every member "
            f"with `backtest data fetch --universe {info['spec']}` and see `backtest data coverage`"
        )
    return notes


def coverage_rows(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows (dashboard): year held, decision close, members, with prices, missing, not members."""
    return [
        {
            "year": year,
            "decision close": e["decision_close"],
            "members": e["members"],
            "with prices": e["with_prices"],
            "missing": ", ".join(e["missing"]),
            "not members": ", ".join(e["excluded"]),
        }
        for year, e in info["coverage"].items()
    ]


def coverage_lines(info: dict[str, Any]) -> list[str]:
    """Per year held: members at the decision close, how many had prices, which were missing."""
    lines = [f"universe {info['spec']}: members with prices at each decision close (year held)"]
    for year, entry in info["coverage"].items():
        missing = entry["missing"]
        shown = ", ".join(missing[:SHOWN_MISSING]) + (
            f", … (+{len(missing) - SHOWN_MISSING})" if len(missing) > SHOWN_MISSING else ""
        )
        excluded = entry["excluded"]
        lines.append(
            f"  {year}: {entry['with_prices']} of {entry['members']} members on {entry['decision_close']}"
            + (f"; missing {shown}" if missing else "")
            + (f"; not members: {', '.join(excluded)}" if excluded else "")
        )
    return lines
