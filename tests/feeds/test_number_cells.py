"""A wrong number is never read as a right one: commas in number cells and non-finite parameters refused."""

from __future__ import annotations

import pytest

from feeds.errors import InputError
from feeds.files import read_price_file
from strategies.params import StrategyParams, build_params


@pytest.mark.parametrize("cell", ['"1469,25"', '"1,469.25"'])
def test_a_comma_in_a_number_is_refused_naming_file_row_and_field(tmp_path, cell):
    path = tmp_path / "eu.csv"
    path.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        f"2020-01-02,1,1,1,{cell},1,100\n2020-01-03,1,1,1,2,1,100\n"
    )
    with pytest.raises(InputError, match=r"eu\.csv.*row.*has a comma") as info:
        read_price_file(path)
    assert "\n" not in str(info.value)


class _P(StrategyParams):
    threshold: float = 0.0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_float_parameters_refuse_non_finite_values(value):
    with pytest.raises(InputError, match="finite number"):
        build_params(_P, {"threshold": value}, "x")
