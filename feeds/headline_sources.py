"""Where headlines come from (``--headlines SPEC``), and the daily features made from them.

Specs: ``csv:PATH``, ``parquet:PATH`` (or a bare path ending in .csv/.parquet),
``rss:PATH_OR_URL`` (RSS/Atom through feedparser: the live daily update),
``yahoo-news:TICKER`` (yfinance ``Ticker.news``, live). The live sources need a
network; their parsers (:func:`parse_feed`, :func:`parse_yahoo_news`) are tested
on saved responses.

Daily features (:func:`daily_features`): per trading day, the mean embedding of
the headlines assigned to it (``feeds.headlines.assign_trading_days``) and their
count; a day without headlines gets zeros and count 0. They join the market as
the feature columns ``headlines`` (n_days, dim) and ``headline_count``
(n_days, 1), so every strategy that reads extra features picks them up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from feeds.calendar import EXCHANGE_TZ
from feeds.embeddings import Embedder, EmbedStats, ProgressFn
from feeds.errors import InputError
from feeds.headlines import (
    DateOnly,
    HeadlineReport,
    assign_trading_days,
    headline_rows,
    parse_zone,
    read_headline_file,
)

UTC = dt.UTC
FEATURE_EMBEDDING = "headlines"
FEATURE_COUNT = "headline_count"


def load_headlines(
    spec: str,
    *,
    headline_column: str | None = None,
    time_column: str | None = None,
    timezone: str | None = None,
) -> tuple[pl.DataFrame, HeadlineReport]:
    """Read a ``--headlines`` spec into the headline schema (see the module docstring).

    ``headline_column``/``time_column``: the file's columns (auto-detected when None;
    files only); ``timezone``: zone of times written without one (default New York).
    """
    naive_tz = parse_zone(timezone) if timezone else EXCHANGE_TZ
    scheme, sep, target = spec.partition(":")
    if not sep or (len(scheme) == 1 and target.startswith("\\")):  # a bare path (or C:\...)
        scheme, target = Path(spec).suffix.lower().lstrip("."), spec
    scheme = scheme.lower()
    if scheme in ("csv", "parquet"):
        return read_headline_file(
            target, time_column=time_column, text_column=headline_column, naive_tz=naive_tz
        )
    if scheme == "rss":
        import feedparser

        parsed = feedparser.parse(target)
        if parsed.get("bozo") and not parsed.get("entries"):
            raise InputError(f"rss:{target}: not a readable RSS/Atom feed ({parsed.get('bozo_exception')})")
        return _entries(parsed, f"rss:{target}", naive_tz)
    if scheme == "yahoo-news":
        import yfinance

        try:
            items = yfinance.Ticker(target).news
        except Exception as exc:  # network, Yahoo down: one clear line
            raise InputError(f"yahoo-news:{target}: could not fetch news ({exc})") from exc
        return parse_yahoo_news(items, target)
    raise InputError(
        f"--headlines {spec!r}: use csv:PATH, parquet:PATH, rss:PATH_OR_URL or yahoo-news:TICKER"
    )


def parse_feed(content: str | bytes, origin: str = "rss") -> tuple[pl.DataFrame, HeadlineReport]:
    """Headlines from the text of an RSS or Atom document (entry title and published/updated time)."""
    import feedparser

    return _entries(feedparser.parse(content), origin)


def _entries(
    parsed: Any, origin: str, naive_tz: dt.tzinfo = EXCHANGE_TZ
) -> tuple[pl.DataFrame, HeadlineReport]:
    source = parsed.get("feed", {}).get("title") or origin
    rows = []
    for entry in parsed.get("entries", []):
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")  # UTC struct_time
        published = dt.datetime(*stamp[:6], tzinfo=UTC) if stamp else entry.get("published")
        rows.append({"published": published, "headline": entry.get("title"), "source": source})
    return headline_rows(rows, origin, naive_tz=naive_tz)


def parse_yahoo_news(items: list[dict[str, Any]], ticker: str) -> tuple[pl.DataFrame, HeadlineReport]:
    """Headlines from yfinance ``Ticker.news`` items (current ``content`` layout and the older flat one)."""
    rows = []
    for item in items:
        content = item.get("content", item)
        title = content.get("title")
        if "pubDate" in content:
            published: Any = content["pubDate"]
        elif "providerPublishTime" in content:
            published = dt.datetime.fromtimestamp(int(content["providerPublishTime"]), tz=UTC)
        else:
            published = None
        provider = (
            content.get("provider", {}).get("displayName")
            if isinstance(content.get("provider"), dict)
            else None
        )
        rows.append(
            {
                "published": published,
                "headline": title,
                "source": provider or content.get("publisher"),
                "ticker": ticker,
            }
        )
    return headline_rows(rows, f"yahoo-news:{ticker}")


@dataclass(frozen=True)
class HeadlineFeatures:
    """Daily features and where they came from (stored with the run)."""

    features: dict[str, np.ndarray]
    report: HeadlineReport
    stats: EmbedStats
    assigned: int  # headlines on a trading day of the data
    outside: int  # before the first or after the last trading day
    days_with_news: int

    def info(self) -> dict[str, Any]:
        return {
            "headlines": self.report.kept,
            "rejected": sum(self.report.rejected.values()),
            "assigned": self.assigned,
            "outside_data": self.outside,
            "days_with_headlines": self.days_with_news,
            "embedded": self.stats.computed,
            "cache_hits": self.stats.cache_hits,
        }


def daily_features(
    frame: pl.DataFrame,
    dates: np.ndarray,
    vectors: np.ndarray,
    *,
    date_only_rule: DateOnly = "next",
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(features {headlines: (n_days, dim) mean, headline_count: (n_days, 1)}, trading-day row per headline).

    Row t holds headlines whose information is known by day t's 16:00 New York
    close; -1 rows (after the last day) and headlines before the first day's
    previous close are left out.
    """
    rows = assign_trading_days(
        frame["published_at"].to_numpy(), frame["date_only"].to_numpy(), dates, date_only_rule=date_only_rule
    )
    n, dim = len(dates), vectors.shape[1] if vectors.ndim == 2 and len(vectors) else 0
    first = np.datetime64(dates[0], "D") - np.timedelta64(7, "D")
    # a headline long before the data's first day is not "news of day 0"
    stale = frame["published_at"].to_numpy().astype("datetime64[D]") < first
    use = (rows >= 0) & ~stale
    total = np.zeros((n, dim))
    np.add.at(total, rows[use], vectors[use].astype(np.float64))
    count = np.bincount(rows[use], minlength=n).astype(np.float64)
    mean = np.divide(total, count[:, None], out=np.zeros_like(total), where=count[:, None] > 0)
    return {FEATURE_EMBEDDING: mean, FEATURE_COUNT: count[:, None]}, np.where(use, rows, -1)


def headline_features(
    spec: str,
    dates: np.ndarray,
    cache_dir: Path,
    *,
    model: str = "default",
    date_only_rule: DateOnly = "next",
    progress: ProgressFn | None = None,
    columns: dict[str, str | None] | None = None,
    device: str = "cpu",
) -> HeadlineFeatures:
    """Load, embed (through the cache) and align the headlines of ``spec`` to ``dates``.

    ``columns``: :func:`load_headlines`'s ``headline_column``/``time_column``/``timezone``;
    ``device``: the resolved torch device the embedding model runs on (:class:`Embedder`).
    """
    frame, report = load_headlines(spec, **(columns or {}))
    if frame.height == 0:
        raise InputError(f"--headlines {spec}: no usable headlines ({'; '.join(report.lines())})")
    embedder = Embedder(cache_dir, model, device=device)
    try:
        vectors, stats = embedder.embed(frame["headline"].to_list(), progress=progress)
    finally:
        embedder.close()
    features, rows = daily_features(frame, dates, vectors, date_only_rule=date_only_rule)
    assigned = int((rows >= 0).sum())
    return HeadlineFeatures(
        features=features,
        report=report,
        stats=stats,
        assigned=assigned,
        outside=frame.height - assigned,
        days_with_news=int((features[FEATURE_COUNT][:, 0] > 0).sum()),
    )


def dump_rows(frame: pl.DataFrame, rows: np.ndarray, dates: np.ndarray, out: Path) -> None:
    """Write cleaned headlines with their ``trading_day`` (CSV or Parquet by extension), atomically."""
    day = np.where(
        rows >= 0, np.asarray(dates, dtype="datetime64[D]")[np.clip(rows, 0, None)], np.datetime64("NaT")
    )
    table = frame.with_columns(pl.Series("trading_day", day.astype("datetime64[D]"), dtype=pl.Date))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix.lower() == ".parquet":
        table.write_parquet(tmp)
    elif out.suffix.lower() == ".csv":
        table.write_csv(tmp)
    else:
        raise InputError(f"--out {out}: use a .parquet or .csv file name")
    tmp.replace(out)
