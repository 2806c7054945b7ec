"""The run's basis end to end: total return of the S&P 500, cash interest, the basis statement.

The expected figures are computed here from the shipped files with plain Python
(csv module, loops), not through the engine's dividend or simulation code.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math

import numpy as np
import pytest

from engine.cli import main
from feeds.dividends import SHILLER_PATH
from feeds.sample import read_sample
from tests.conftest import GSPC_CSV, random_walk_market, write_yahoo_csv

CASH = "tests/fixtures/always_cash.py:AlwaysCash"


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def _gspc(start: dt.date, end: dt.date) -> list[tuple[dt.date, float]]:
    frame = read_sample()
    rows = [
        (d, c)
        for d, t, c in zip(
            frame["date"].to_list(), frame["ticker"].to_list(), frame["close"].to_list(), strict=True
        )
        if t == "^GSPC" and start <= d <= end
    ]
    return sorted(rows)


def _independent_total_return_cagr(rows: list[tuple[dt.date, float]]) -> float:
    """Shiller's annual dividend of each calendar day's month / 365.25 per day, reinvested at each close."""
    with open(SHILLER_PATH) as f:
        monthly = {r["month"][:7]: float(r["dividend"]) for r in csv.DictReader(f)}
    value = 1.0
    for (d0, p0), (d1, p1) in itertools.pairwise(rows):
        points = 0.0
        day = d0 + dt.timedelta(days=1)
        while day <= d1:
            points += monthly[day.strftime("%Y-%m")] / 365.25
            day += dt.timedelta(days=1)
        value *= (p1 + points) / p0
    years = (rows[-1][0] - rows[0][0]).days / 365.25
    return value ** (1 / years) - 1


def _run_json(capsys, *args: str) -> dict:
    code, out, err = cli(capsys, "run", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_buy_and_hold_of_the_sample_is_total_return_matching_an_independent_computation(capsys):
    payload = _run_json(capsys, "--strategy", "buy-and-hold", "--cost-bps", "0", "--start", "2010-01-01")
    rows = _gspc(dt.date(2010, 1, 1), dt.date(2022, 12, 31))
    expected = _independent_total_return_cagr(rows)
    assert payload["strategies"][0]["cagr"] == pytest.approx(expected, rel=1e-9)
    assert payload["benchmark"]["cagr"] == pytest.approx(expected, rel=1e-9)
    price_only = (rows[-1][1] / rows[0][1]) ** (365.25 / (rows[-1][0] - rows[0][0]).days) - 1
    assert 0.015 < expected - price_only < 0.03  # about one dividend yield
    basis = payload["basis"]
    assert basis["dividends"] == "reinvested" and basis["cash_rate"] == 0.0
    assert basis["calendar"] and "total return" in basis["statement"]


def test_excluding_dividends_gives_the_price_only_cagr(capsys):
    payload = _run_json(
        capsys,
        "--strategy",
        "buy-and-hold",
        "--dividends",
        "exclude",
        "--cost-bps",
        "0",
        "--start",
        "2010-01-01",
    )
    rows = _gspc(dt.date(2010, 1, 1), dt.date(2022, 12, 31))
    price_only = (rows[-1][1] / rows[0][1]) ** (365.25 / (rows[-1][0] - rows[0][0]).days) - 1
    assert abs(payload["strategies"][0]["cagr"] - price_only) < 1e-6
    assert payload["basis"]["dividends"] == "excluded"
    assert payload["basis"]["statement"].startswith("basis: price only")


def test_cash_earns_the_cash_rate_and_sharpe_is_in_excess_of_it(capsys):
    payload = _run_json(
        capsys, "--strategy", CASH, "--strategy", "buy-and-hold", "--cash-rate", "0.03", "--cost-bps", "0"
    )
    cash, hold = payload["strategies"]
    assert abs(cash["cagr"] - 0.03) < 0.0005
    assert cash["cagr"] == pytest.approx(0.03, abs=1e-9)  # exact on the engine's 365.25-day years
    assert payload["basis"]["cash_rate"] == 0.03
    plain = _run_json(capsys, "--strategy", "buy-and-hold", "--cost-bps", "0")
    assert hold["cagr"] == pytest.approx(plain["strategies"][0]["cagr"], abs=1e-12)  # fully invested
    assert hold["sharpe"] < plain["strategies"][0]["sharpe"]


def test_cash_on_a_file_half_invested_by_hand(tmp_path, capsys):
    """Independent loop: a 50/50 start, no trades after; cash compounds daily, the stock moves."""
    market = random_walk_market(n=200, seed=4)
    path = write_yahoo_csv(tmp_path / "AAA.csv", market)
    plugin = tmp_path / "half.py"
    plugin.write_text(
        "import numpy as np\n"
        "from strategies.base import RuleStrategy\n"
        "class Half(RuleStrategy):\n"
        "    name = 'half'\n"
        "    summary = 'half in, then hold'\n"
        "    def target_weights(self, history, seeds):\n"
        "        w = np.full(history.close.shape, np.nan)\n"
        "        w[0] = 0.5\n"
        "        return w\n"
    )
    payload = _run_json(
        capsys,
        "--data",
        f"csv:{path}",
        "--strategy",
        f"{plugin}:Half",
        "--cash-rate",
        "0.04",
        "--cost-bps",
        "0",
    )
    closes = [round(c, 6) for c in market.close[:, 0]]
    days = [dt.date.fromisoformat(str(d)) for d in market.dates]
    cash, shares = 0.5, 0.5 / closes[0]
    for d0, d1 in itertools.pairwise(days):
        cash *= 1.04 ** ((d1 - d0).days / 365.25)
    final = cash + shares * closes[-1]
    years = (days[-1] - days[0]).days / 365.25
    assert payload["strategies"][0]["cagr"] == pytest.approx(final ** (1 / years) - 1, rel=1e-9)
    assert payload["basis"]["dividends"] == "unknown"  # Adj Close equals Close: not guessed
    assert "not known" in payload["basis"]["statement"]


def test_annual_runs_put_the_index_on_the_stocks_total_return_basis(capsys):
    payload = _run_json(capsys, "--frequency", "annual", "--start", "2015-01-01", "--seed-list", "0")
    basis = payload["basis"]
    assert basis["dividends"] == "reinvested"
    assert basis["dividend_sources"]["^GSPC"].startswith("Shiller")
    assert basis["dividend_sources"]["AAPL"] == "adjusted closes"
    excluded = _run_json(capsys, "--frequency", "annual", "--start", "2015-01-01", "--dividends", "exclude")
    assert excluded["basis"]["dividends"]["^GSPC"] == "excluded"
    assert excluded["basis"]["dividends"]["AAPL"] == "reinvested"  # adjusted closes cannot be un-adjusted
    index = {b["name"]: b["cagr"] for b in payload["benchmarks"]}["buy-and-hold ^GSPC"]
    index_price = {b["name"]: b["cagr"] for b in excluded["benchmarks"]}["buy-and-hold ^GSPC"]
    assert 0.01 < index - index_price < 0.03


def test_evidence_uses_the_comparison_tables_cagr(capsys):
    payload = _run_json(capsys, "--start", "2012-01-01")
    entry = payload["strategies"][0]
    assert payload["evidence"][entry["name"]]["mean_excess_cagr"] == pytest.approx(
        entry["excess_cagr"], abs=1e-12
    )


def test_a_dividend_file_makes_a_plain_series_total_return(tmp_path, capsys):
    market = random_walk_market(n=300, seed=6)
    path = write_yahoo_csv(tmp_path / "AAA.csv", market)
    dividends = tmp_path / "div.csv"
    dividends.write_text(f"date,dividend\n{market.dates[100]},1.0\n{market.dates[200]},1.5\n")
    plain = _run_json(capsys, "--data", f"csv:{path}", "--strategy", "buy-and-hold", "--cost-bps", "0")
    paid = _run_json(
        capsys,
        "--data",
        f"csv:{path}",
        "--strategy",
        "buy-and-hold",
        "--cost-bps",
        "0",
        "--dividends",
        f"csv:{dividends}",
    )
    closes = [round(c, 6) for c in market.close[:, 0]]
    value = closes[-1] / closes[0]
    value *= (closes[100] + 1.0) / closes[100] * (closes[200] + 1.5) / closes[200]
    years = (market.dates[-1] - market.dates[0]).astype(np.int64) / 365.25
    assert paid["strategies"][0]["cagr"] == pytest.approx(value ** (1 / years) - 1, rel=1e-9)
    assert paid["basis"]["dividends"] == "reinvested" and plain["basis"]["dividends"] == "unknown"


def test_past_the_bundled_dividends_the_yield_is_carried_forward_and_said(tmp_path, capsys):
    days = np.busday_offset(np.datetime64("2023-05-01"), np.arange(60), roll="forward")
    lines = ["date,ticker,close"] + [f"{d},^GSPC,{4000 + i}" for i, d in enumerate(days)]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    payload = _run_json(capsys, "--data", f"csv:{path}", "--strategy", "buy-and-hold")
    flags = payload["basis"]["flags"]
    assert any("carried forward" in f and "2023-07-01" in f for f in flags)
    assert "carried forward" in payload["basis"]["statement"]


@pytest.mark.parametrize(
    ("option", "body", "expected"),
    [
        ("--dividends", "date,dividend\n2020-01-02,-0.5\n", "row 1 (line 2), field 'dividend': negative"),
        (
            "--dividends",
            "date,dividend\n2020-01-02,x\n",
            "row 1 (line 2), field 'dividend': cannot parse 'x'",
        ),
        ("--cash-rate", "date,rate\n1989-01-02,0.05\n1989-06-01,0.05\n", "row 2 (line 3), field 'date': gap"),
        (
            "--cash-rate",
            "date,rate\n1989-01-02,5.1\n",
            "row 1 (line 2), field 'rate': rate 5.1 is above 100%",
        ),
    ],
)
def test_bad_dividend_and_rate_files_exit_2_with_one_line(tmp_path, capsys, option, body, expected):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    code, _, err = cli(capsys, "run", "--start", "2020-01-01", option, f"csv:{path}")
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and expected in lines[0]


def test_the_basis_is_printed_under_the_comparison_and_by_show(capsys):
    code, out, _ = cli(capsys, "run", "--start", "2015-01-01", "--cash-rate", "0.02")
    assert code == 0
    assert out.count("basis: total return") == 1  # once, under the comparison table (issue 29)
    assert "cash earns 2% a year" in out.replace("\n", " ")
    code, shown, _ = cli(capsys, "show", "latest")
    assert code == 0 and "basis: total return" in shown


def test_runs_stored_before_the_basis_existed_say_so():
    from engine.cli.report import basis_line
    from engine.rows import LEGACY_BASIS
    from engine.store.result_schema import RunResult

    assert basis_line(RunResult.model_construct(run_id="x", basis=None)) == LEGACY_BASIS
    assert math.isfinite(len(LEGACY_BASIS))


@pytest.mark.skipif(not GSPC_CSV.is_file(), reason="no ../shared/data")
def test_the_real_gspc_file_named_gspc_is_total_return_and_carries_the_yield_forward(capsys):
    common = (
        "--data",
        f"csv:{GSPC_CSV}",
        "--ticker",
        "^GSPC",
        "--strategy",
        "buy-and-hold",
        "--cost-bps",
        "0",
    )
    held = _run_json(capsys, *common, "--start", "1990-10-15", "--end", "2022-12-28")
    price = _run_json(
        capsys, *common, "--start", "1990-10-15", "--end", "2022-12-28", "--dividends", "exclude"
    )
    assert price["strategies"][0]["cagr"] == pytest.approx(0.0815, abs=5e-4)  # price only
    assert held["strategies"][0]["cagr"] == pytest.approx(0.103, abs=2e-3)  # dividends reinvested
    assert held["basis"]["flags"] == []
    later = _run_json(capsys, *common, "--start", "2022-01-03")  # to 2023-12-28, past the dividends
    assert any("carried forward" in f for f in later["basis"]["flags"])


def test_a_daily_update_past_the_dividend_data_equals_a_run_in_one_go(tmp_path):
    """Total return with the carried-forward yield and cash interest: update == one go, bit for bit."""
    from engine.config.run_config import RunConfig, StrategySpec
    from engine.pipeline.prepare import prepare
    from engine.store.run_store import RunStore
    from engine.workflows.record import run_and_store
    from engine.workflows.update import update_run

    market = random_walk_market(n=200, seed=8, start="2023-01-02")  # crosses 2023-07
    store = RunStore(tmp_path / "runs")
    config = RunConfig(
        strategies=(
            StrategySpec(name="lstm-stateful", params={"hidden": 4, "warmup_years": 0.1}),
            StrategySpec(name="ma-trend", params={"window": 20}),
        ),
        seeds=(0, 1),
        cash_rate=0.03,
    )
    (tmp_path / "short").mkdir()
    short_csv = write_yahoo_csv(tmp_path / "short" / "^GSPC.csv", market.head(120))
    short = run_and_store(prepare(config.model_copy(update={"data": f"csv:{short_csv}"})), store)
    long_csv = write_yahoo_csv(tmp_path / "^GSPC.csv", market)
    result, _ = update_run(store, short.run_id, data=f"csv:{long_csv}")
    one_go = run_and_store(prepare(config.model_copy(update={"data": f"csv:{long_csv}"})), store)
    assert result is not None
    got, want = result.to_dict(), one_go.to_dict()
    for payload in (got, want):
        payload.pop("run_id")
        payload.pop("config")
    assert got == want
    assert got["basis"]["dividends"] == "reinvested"
    assert any("carried forward" in f for f in got["basis"]["flags"])


def test_buy_and_hold_as_a_strategy_prints_its_evidence_without_crashing(capsys):
    """Its excess over itself is 0, so PSR/DSR are undefined: printed as '—' (this used to crash)."""
    code, out, err = cli(capsys, "run", "--strategy", "buy-and-hold", "--start", "2018-01-01")
    assert code == 0, err
    assert "PSR —" in out and "basis: total return" in out
