"""Bars validation: prices must be finite and plausible (bounds in feeds/schema.py)."""

from __future__ import annotations

import warnings

import pytest

from feeds.errors import DataQuirkWarning, InputError
from feeds.files import read_price_file
from tests.conftest import random_walk_market, write_yahoo_csv


def csv_with_close(tmp_path, row: int, value: str):
    path = write_yahoo_csv(tmp_path / "P.csv", random_walk_market(n=60, seed=2))
    lines = path.read_text().splitlines()
    cells = lines[row].split(",")
    cells[4] = cells[5] = value  # Close and Adj Close
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("value", ["inf", "-inf", "1e300", "1e-300"])
def test_absurd_closes_are_an_error_naming_file_and_row(tmp_path, value):
    path = csv_with_close(tmp_path, 30, value)
    with pytest.raises(InputError) as info:
        read_price_file(path)
    message = str(info.value)
    assert "P.csv row 30" in message, message


def test_a_daily_move_beyond_the_error_bound_names_the_row(tmp_path):
    path = write_yahoo_csv(tmp_path / "J.csv", random_walk_market(n=60, seed=2))
    lines = path.read_text().splitlines()
    for i in range(40, len(lines)):  # a permanent jump x5000 from data row 40 on
        cells = lines[i].split(",")
        for j in (1, 2, 3, 4, 5):
            cells[j] = f"{float(cells[j]) * 5000:.6f}"
        lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"J.csv row 40 .*x1000"):
        read_price_file(path)


def test_a_large_but_possible_move_is_a_warning_not_an_error(tmp_path):
    path = write_yahoo_csv(tmp_path / "W.csv", random_walk_market(n=60, seed=2))
    lines = path.read_text().splitlines()
    for i in range(40, len(lines)):  # -80% in a day: rare for a stock, possible (or an unadjusted split)
        cells = lines[i].split(",")
        for j in (1, 2, 3, 4, 5):
            cells[j] = f"{float(cells[j]) * 0.2:.6f}"
        lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_price_file(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, DataQuirkWarning)]
    assert any("W.csv row 40" in m and "split" in m for m in messages), messages


def test_ordinary_data_passes_without_warnings(tmp_path):
    path = write_yahoo_csv(tmp_path / "OK.csv", random_walk_market(n=60, seed=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQuirkWarning)
        read_price_file(path)
