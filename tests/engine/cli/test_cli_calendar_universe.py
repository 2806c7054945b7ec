"""CLI runs of the exchange calendar (headline alignment on early closes) and point-in-time universes."""

from __future__ import annotations

import polars as pl
import pytest

from engine.cli import main


def cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def test_headlines_import_on_an_early_close_day(capsys, tmp_path):
    news = tmp_path / "news.csv"
    news.write_text(
        "published,headline\n"
        "2019-07-03 12:59,one minute before the 13:00 early close\n"
        "2019-07-03 13:30,after the early close\n"
    )
    out_file = tmp_path / "aligned.csv"
    code, _out, err = cli(capsys, "headlines", "import", f"csv:{news}", "--out", str(out_file))
    assert code in (0, None), err
    aligned = pl.read_csv(out_file)
    assert aligned["trading_day"].to_list() == ["2019-07-03", "2019-07-05"]


def test_json_names_the_calendar(capsys):
    code, out, err = cli(capsys, "run", "--start", "2019-01-01", "--json")
    assert code in (0, None), err
    import json

    payload = json.loads(out)
    assert payload["calendar"].startswith("XNYS (exchange-calendars ")


def test_bad_universe_input_exits_2_with_one_line(capsys, tmp_path):
    bad = tmp_path / "members.csv"
    bad.write_text("ticker,start,end\nAAPL,2010-01-01,2009-12-31\n")
    code, _, err = cli(capsys, "run", "--frequency", "annual", "--universe", f"csv:{bad}")
    assert code == 2
    text = " ".join(err.split())  # rich wraps long lines at the console width
    assert text.count("error:") == 1 and str(bad) in text and "row 1 (line 2), field 'end'" in text
    # S&P 500 membership starts 2004-12-30: the sample's 1990 year ends are refused, clearly
    code, _, err = cli(capsys, "run", "--frequency", "annual", "--universe", "sp500")
    assert code == 2 and "membership data start 2004-12-30" in err and "--start" in err
    code, _, err = cli(capsys, "run", "--universe", "sp500", "--start", "2005-01-01")
    assert code == 2 and "--frequency annual" in err
    code, _, err = cli(capsys, "run", "--frequency", "annual", "--universe", "nasdaq")
    assert code == 2 and "expected sp500" in err


def test_universe_run_reports_coverage(capsys, tmp_path):
    members = tmp_path / "members.csv"
    members.write_text("ticker,start,end\n" + "".join(f"{t},2004-01-01,\n" for t in ("AAPL", "MSFT", "KO")))
    code, out, err = cli(
        capsys, "run", "--frequency", "annual", "--universe", f"csv:{members}", "--start", "2015-01-01",
        "--strategy", "momentum-annual", "--param", "top_k=2", "--json",
    )  # fmt: skip
    assert code in (0, None), err
    import json

    payload = json.loads(out)
    coverage = payload["universe"]["coverage"]
    assert coverage["2016"]["members"] == 3 and coverage["2016"]["with_prices"] == 3
    assert "RRC" in coverage["2016"]["excluded"]
    assert all(set(p) <= {"AAPL", "MSFT", "KO"} for p in payload["strategies"][0]["picks"].values())
