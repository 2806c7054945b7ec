"""The README as an executable document (issue 29): every command of its Run section runs, exit 0.

The commands are read from README.md's ``## Run`` section (each ```bash block up to the next
``## `` heading), so an edit of the README is tested too. They run in this process
(``engine.cli.main``) in a temporary directory holding a link to ``examples/`` (the sample files
the commands name), with temporary runs and cache directories, on the bundled data. To keep the
test short, ``run`` and ``audit`` get a short period and one seed where the command sets neither;
``update`` stops half a year on. What cannot run offline or must not block is stood in for, and
said here: Yahoo downloads (yfinance) are served from the bundled sample prices (``SPY`` from
``examples/data/KO.csv``: a stand-in, there is no SPY in the sample), and ``backtest dashboard``
runs up to the call that would start the server (the page itself: tests/app).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

SHORT_START, SHORT_END = "2008-01-02", "2016-12-30"  # lstm/transformer: 5 years of warm-up, then 4 traded
PLACEHOLDERS = ("RUN1", "RUN2", "RUN")  # run ids the README leaves to the reader


def run_section(text: str) -> str:
    """The README's ``## Run`` section: from its heading to the next ``## `` heading."""
    start = text.index("\n## Run\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


# Subsections whose commands this test leaves out, and why (each checked to still exist).
LEFT_OUT = {
    # a sweep runs many cells (minutes), `--executor ray` needs the optional ray extra;
    # sweeps have their own tests (tests/engine/workflows, tests/engine/cli)
    "Sweeps": "### Sweeps\n",
}


def bash_blocks(section: str) -> list[str]:
    """The ```bash blocks of ``section``, without those of the LEFT_OUT subsections."""
    parts = re.split(r"\n(?=### )", section)
    kept = [p for p in parts if not any(p.startswith(head) for head in LEFT_OUT.values())]
    return re.findall(r"```bash\n(.*?)```", "\n".join(kept), flags=re.S)


def commands(block: str) -> list[tuple[list[str], str | None]]:
    """The commands of one bash block: (argv, file stdout goes to), with ``VAR=value`` expanded."""
    variables: dict[str, str] = {}
    found: list[tuple[list[str], str | None]] = []
    for line in block.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&>")
        lexer.whitespace_split = True
        tokens = list(lexer)
        if len(tokens) == 1 and re.fullmatch(r"[A-Z_]+=\S+", tokens[0]):
            name, value = tokens[0].split("=", 1)
            variables[name] = value
            continue
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token in (";", "&&"):
                if current:
                    redirect = None
                    if ">" in current:
                        at = current.index(">")
                        current, redirect = current[:at], current[at + 1]
                    found.append((current, redirect))
                current = []
                continue
            current.append(re.sub(r"\$([A-Z_]+)", lambda m: variables[m.group(1)], token))
    return found


def readme_commands() -> list[tuple[list[str], str | None]]:
    section = run_section(README.read_text(encoding="utf-8"))
    return [c for block in bash_blocks(section) for c in commands(block)]


def shorter(argv: list[str]) -> list[str]:
    """``argv`` with a short period and one seed where it sets neither (what the test adds)."""
    words = argv[1:2]
    extra: list[str] = []
    if words in (["run"], ["audit"]) and "--config" not in argv:
        if "--start" not in argv:
            extra += ["--start", SHORT_START]
        if "--end" not in argv:
            extra += ["--end", SHORT_END]
        if "--seeds" not in argv and "--seed-list" not in argv:
            extra += ["--seeds", "1"]
        if words == ["audit"]:
            extra += ["--cuts", "2"]
    if words == ["update"] and "--end" not in argv:
        extra += ["--end", "2017-06-30"]
    return [*argv, *extra]


def sample_bars() -> dict[str, pd.DataFrame]:
    """Yahoo-shaped daily bars of every bundled ticker (closes only: open = high = low = close)."""
    import polars as pl

    prices = pl.read_parquet(ROOT / "feeds" / "data" / "sample_prices.parquet")
    ko = pl.read_csv(ROOT / "examples" / "data" / "KO.csv", try_parse_dates=True)
    frames = {
        ticker: (part["date"].to_numpy(), part["close_milli"].to_numpy() / 1000)
        for (ticker,), part in prices.sort("date").group_by("ticker")
    }
    frames["SPY"] = (ko["Date"].to_numpy(), ko["Close"].to_numpy())  # a stand-in: the sample has no SPY
    out = {}
    for ticker, (dates, close) in frames.items():
        index = pd.DatetimeIndex(dates, name="Date")
        columns = {"Open": close, "High": close, "Low": close, "Close": close, "Adj Close": close}
        out[ticker] = pd.DataFrame({**columns, "Volume": 1e6}, index=index)
    return out


class SampleYahoo:
    """Stands in for ``yfinance.download``: the bundled sample's bars; other tickers come back empty."""

    def __init__(self) -> None:
        self.bars = sample_bars()

    def _one(self, ticker: str, start: object) -> pd.DataFrame:
        data = self.bars.get(ticker)
        if data is None:
            return pd.DataFrame()
        return data[data.index >= pd.Timestamp(start)] if start else data

    def __call__(self, tickers, start=None, **kwargs):
        if isinstance(tickers, str):
            return self._one(tickers, start)
        template = next(iter(self.bars.values())).iloc[:0]
        parts = {}
        for ticker in tickers:
            part = self._one(ticker, start)
            parts[ticker] = part if len(part) else template.reindex(pd.DatetimeIndex([], name="Date"))
        joined = pd.concat(parts, axis=1)
        return joined.astype(np.float64)


def test_the_run_section_is_parsed():
    found = readme_commands()
    assert (["backtest", "run"], None) in found
    assert any(argv[:3] == ["backtest", "show", "RUN"] and out == "run.toml" for argv, out in found)
    assert any("examples/data/headlines.csv" in " ".join(argv) for argv, _ in found)  # $H expanded
    assert all(argv[0] == "backtest" for argv, _ in found), [a for a, _ in found if a[0] != "backtest"]


def test_the_left_out_subsections_exist():
    section = run_section(README.read_text(encoding="utf-8"))
    assert all(head in section for head in LEFT_OUT.values())


def test_every_file_a_command_names_exists():
    for argv, _ in readme_commands():
        for token in argv:
            scheme, _, path = token.partition(":")
            if scheme == "csv" and "examples/" in path:
                assert (ROOT / path).is_file(), token


@pytest.mark.slow
def test_every_run_section_command_exits_0(tmp_path, monkeypatch, capsys):
    import yfinance

    from engine.cli import main
    from feeds import universe_fetch

    monkeypatch.setattr(yfinance, "download", SampleYahoo())
    fetch = universe_fetch.fetch_universe  # most S&P 500 members are not in the sample: no waits, no retries
    monkeypatch.setattr(
        universe_fetch,
        "fetch_universe",
        lambda *a, **kw: fetch(*a, **{**kw, "retries": 0, "pause_s": 0.0, "sleep": lambda s: None}),
    )
    launched: list[dict] = []
    monkeypatch.setattr("engine.dashboard.launch.launch", lambda **kw: launched.append(kw))
    monkeypatch.setenv("STOCKRNN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("STOCKRNN_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(work)

    for argv, redirect in readme_commands():
        ids = sorted(p.name for p in (tmp_path / "runs").glob("2*") if p.is_dir())
        given = {"RUN": ids[0] if ids else "", "RUN1": ids[0] if ids else "", "RUN2": ids[-1] if ids else ""}
        args = shorter([given.get(a, a) for a in argv])[1:]
        with pytest.raises(SystemExit) as info:
            main(args)
        captured = capsys.readouterr()
        if redirect:
            (work / redirect).write_text(captured.out, encoding="utf-8")
        assert info.value.code in (0, None), (
            f"backtest {' '.join(args)}: exit {info.value.code}\n{captured.err}"
        )
    assert launched and launched[0]["port"] == 8501
    assert (work / "tearsheet.html").is_file() and (work / "run.toml").is_file()
