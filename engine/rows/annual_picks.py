"""The rows of an annual strategy's picks: per year held, the tickers, the share beating the median stock."""

from __future__ import annotations

from dataclasses import dataclass

from engine.store.result_schema import StrategyEntry

# --- picks of annual strategies ---------------------------------------


@dataclass(frozen=True)
class PicksYear:
    """A year held: tickers picked, share beating the universe's median, most picked over seeds."""

    year: str
    tickers: list[str]
    beat_median: float | None
    by_seed: list[tuple[str, int]]  # (ticker, seeds that picked it), most picked first; [] without seeds


@dataclass(frozen=True)
class Picks:
    """An annual strategy's picks table and its caption figures."""

    strategy: str
    member: str  # whose picks: "ensemble", "seed N", or "" for a deterministic strategy
    years: list[PicksYear]
    with_seeds: bool  # the per-seed counts exist
    share: float | None  # share of picks beating the median over every year
    share_mean_over_seeds: float | None


def picks(entry: StrategyEntry, *, most_picked: int = 6) -> Picks | None:
    """The picks of an annual strategy per year held; None for a strategy without picks."""
    if not entry.picks:
        return None
    member = "ensemble" if entry.ensemble else (f"seed {entry.seeds[0].seed}" if entry.seeds else "")
    by_seed = entry.picks_by_seed or {}
    beat = entry.picks_beat_median
    by_year = beat.by_year if beat else {}
    return Picks(
        strategy=entry.name,
        member=member,
        years=[
            PicksYear(year, tickers, by_year.get(year), list(by_seed.get(year, {}).items())[:most_picked])
            for year, tickers in entry.picks.items()
        ],
        with_seeds=bool(by_seed),
        share=beat.share if beat else None,
        share_mean_over_seeds=beat.share_mean_over_seeds if beat else None,
    )


@dataclass(frozen=True)
class PickRow:
    """One pick in a year held and how it did against the universe's median stock."""

    year: str
    ticker: str
    ret: float | None
    median: float | None

    @property
    def beat(self) -> bool | None:
        return None if self.ret is None or self.median is None else self.ret > self.median


def pick_rows(entry: StrategyEntry) -> list[PickRow]:
    """Annual strategies: every pick of every year held (none for other strategies)."""
    returns = entry.pick_returns or {}
    medians = entry.universe_median_return or {}
    return [
        PickRow(year, ticker, returns.get(year, {}).get(ticker), medians.get(year))
        for year, tickers in (entry.picks or {}).items()
        for ticker in tickers
    ]


# --- evidence ---------------------------------------
