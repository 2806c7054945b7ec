"""Universe specs and files: parsing, validation (file, row, field), ticker spelling, membership by day."""

from __future__ import annotations

import datetime as dt

import pytest

from feeds.errors import InputError
from feeds.universe import normalize_ticker, parse_universe


def universe_csv(tmp_path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "members.csv"
    path.write_bytes(text.encode(encoding))
    return f"csv:{path}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ticker,start,end\nAAA,2012-01-01,2011-01-01\n",
            r"row 1 \(line 2\), field 'end': 2011-01-01 is before",
        ),
        (
            "ticker,start,end\nAAA,2012-01-01,\nBBB,2012-13-01,\n",
            r"row 2 \(line 3\), field 'start': '2012-13-01'",
        ),
        ("ticker,start,end\nAAA,,\n", r"row 1 \(line 2\), field 'start': empty date"),
        ("ticker,start,end\nAAA,01/02/2012,\n", r"field 'start': '01/02/2012' is not a date"),
        ("ticker,start,end\n,2012-01-01,\n", r"field 'ticker': empty ticker"),
        ("ticker,from,end\nAAA,2012-01-01,\n", r"no column 'start'"),
        ("ticker,start,end\n", r"no membership rows"),
    ],
)
def test_bad_universe_files_name_file_row_and_field(tmp_path, text, message):
    spec = universe_csv(tmp_path, text)
    with pytest.raises(InputError, match=message) as info:
        parse_universe(spec)
    assert str(info.value).startswith(str(tmp_path / "members.csv"))


def test_ticker_spelling_is_normalized():
    assert normalize_ticker("BRK.B") == normalize_ticker("brk-b") == normalize_ticker("BRK/B") == "BRK-B"


def test_membership_by_day_with_gaps_and_open_ends(tmp_path):
    spec = universe_csv(
        tmp_path,
        "\ufeffTicker , Start,END\nBRK.B,2010-01-01,2010-12-31\nbrk-b,2012-01-01,\nKO,2010-06-01,\n",
        encoding="utf-8",
    )
    universe = parse_universe(spec)
    assert universe.start == dt.date(2010, 1, 1)
    assert universe.members_at(dt.date(2010, 1, 1)) == {"BRK-B"}
    assert universe.members_at(dt.date(2010, 12, 31)) == {"BRK-B", "KO"}  # end is inclusive
    assert universe.members_at(dt.date(2011, 6, 1)) == {"KO"}
    assert universe.members_at(dt.date(2030, 1, 1)) == {"BRK-B", "KO"}
    with pytest.raises(ValueError, match="before the membership data"):
        universe.members_at(dt.date(2009, 12, 31))


def test_unknown_specs_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="expected sp500"):
        parse_universe("nasdaq100")
    with pytest.raises(InputError, match="universe file not found"):
        parse_universe(f"csv:{tmp_path / 'absent.csv'}")


def test_sp500_membership_comes_from_pitindex_offline():
    universe = parse_universe("sp500")
    assert universe.start == dt.date(2004, 12, 30)
    assert "pitindex" in universe.description
    members = universe.members_at(dt.date(2010, 12, 31))
    assert 490 <= len(members) <= 510 and "BRK-B" in members and "AAPL" in members
