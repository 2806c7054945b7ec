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
