"""The cash rate: constants, dated series, growth per day, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from feeds.cash import CashRate
from feeds.errors import InputError


def test_a_constant_rate_compounds_on_calendar_days():
    dates = np.array(["2020-01-03", "2020-01-06", "2021-01-04"], dtype="datetime64[D]")
    growth = CashRate.parse(0.03).growth(dates)
    assert growth[0] == 1.0
    assert growth[1] == pytest.approx(1.03 ** (3 / 365.25), rel=1e-14)
    assert growth[2] == pytest.approx(1.03 ** (367 / 365.25), rel=1e-14)


def test_a_series_applies_the_rate_known_at_each_close(tmp_path):
    path = tmp_path / "tbill.csv"
    path.write_text("date,rate\n2019-12-10,0.02\n2020-01-06,0.05\n")
    cash = CashRate.parse(f"csv:{path}")
    dates = np.array(["2020-01-03", "2020-01-06", "2020-01-07"], dtype="datetime64[D]")
    growth = cash.growth(dates)
    # Friday -> Monday at 2% (known Friday), Monday -> Tuesday at 5% (known Monday's close)
    expected = [1.0, 1.02 ** (3 / 365.25), 1.02 ** (3 / 365.25) * 1.05 ** (1 / 365.25)]
    assert growth == pytest.approx(expected, rel=1e-14)
    assert cash.carried_from(dates) == np.datetime64("2020-01-07")
    assert cash.carried_from(dates[:2]) is None


def test_a_series_that_starts_too_late_is_refused(tmp_path):
    path = tmp_path / "tbill.csv"
    path.write_text("date,rate\n2020-01-06,0.05\n")
    with pytest.raises(InputError, match=r"tbill.csv row 1 \(line 2\), field 'date': .*starts 2020-01-06"):
        CashRate.parse(f"csv:{path}").growth(np.array(["2020-01-03", "2020-01-06"], dtype="datetime64[D]"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("date,rate\n2020-01-01,0.02\n2020-03-15,0.02\n", "row 2 (line 3), field 'date': gap of 74 days"),
        (
            "date,rate\n2020-01-01,0.02\n2020-01-02,5.2\n",
            "row 2 (line 3), field 'rate': rate 5.2 is above 100%",
        ),
        ("date,rate\n2020-01-01,.\n", "row 1 (line 2), field 'rate': cannot parse '.'"),
        (
            "date,rate\n2020-01-01,0.02\n2020-01-01,0.02\n",
            "row 2 (line 3), field 'date': 2020-01-01 is not after",
        ),
        ("date,rate\n2020-01-01,-1\n", "row 1 (line 2), field 'rate': rate -1 is -100%"),
    ],
)
def test_bad_rate_files_name_file_row_and_field(tmp_path, body, message):
    path = tmp_path / "rates.csv"
    path.write_text(body)
    with pytest.raises(InputError, match=str(path)) as info:
        CashRate.parse(f"csv:{path}")
    assert message in str(info.value)


def test_a_percentage_as_a_constant_is_refused():
    with pytest.raises(InputError, match="divide percentages by 100"):
        CashRate.parse(3.0)
