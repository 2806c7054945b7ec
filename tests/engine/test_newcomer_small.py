"""Small newcomer items of issue 29: p-values, engine.runs() fractions, rerun wording."""

from __future__ import annotations

from engine.api import _fraction
from engine.rows.evidence_block import p_text as _p


def test_a_tiny_p_value_reads_p_below_0001() -> None:
    assert _p(0.0001) == "p < 0.001"
    assert _p(0.279) == "p = 0.279"


def test_listing_figures_are_fractions() -> None:
    assert _fraction("4.59%") == 0.0459
    assert _fraction("-12.5%") == -0.125
    assert _fraction(0.05) == 0.05
    assert _fraction("") is None and _fraction(None) is None


def test_param_without_strategy_goes_to_the_default_strategy(tmp_path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "STOCKRNN_RUNS_DIR": str(tmp_path)}
    cmd = [sys.executable, "-m", "engine.cli", "run", "--start", "2018-01-01"]
    done = subprocess.run([*cmd, "--param", "window=100", "--json"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"]["strategies"][0]["name"] == "ma-trend"
    typo = subprocess.run([*cmd, "--param", "windw=100"], env=env, capture_output=True, text=True)
    assert typo.returncode == 2 and "did you mean 'window'?" in typo.stderr


def test_a_directory_and_a_renamed_workbook_get_their_own_line(tmp_path) -> None:
    import pytest

    from feeds.errors import InputError
    from feeds.files import read_price_file, read_text_table

    with pytest.raises(InputError, match="is a directory"):
        read_price_file(tmp_path)
    book = tmp_path / "prices.csv"
    book.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(InputError, match=r"looks like an Excel file \(xlsx/xls\)"):
        read_price_file(book)
    with pytest.raises(InputError, match="looks like an Excel file"):
        read_text_table(book)


def test_one_row_out_of_order_is_named_and_newest_first_is_silent(tmp_path) -> None:
    import warnings

    from feeds.files import read_price_file

    days = [f"2020-01-{d:02d}" for d in (2, 3, 6, 7, 8, 9, 10, 13)]
    rows = [f"{d},{100 + i}" for i, d in enumerate(days)]
    newest = tmp_path / "new.csv"
    newest.write_text("date,close\n" + "\n".join(reversed(rows)) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_price_file(newest)
    swapped = [*rows[:3], rows[4], rows[3], *rows[5:]]
    odd = tmp_path / "odd.csv"
    odd.write_text("date,close\n" + "\n".join(swapped) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_price_file(odd)
    assert any("out of order" in str(w.message) and "row" in str(w.message) for w in caught)
