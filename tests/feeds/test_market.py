from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from feeds.calendar import year_end_mask
from feeds.errors import InputError
from feeds.market import Market


def make(dates, close, tickers=("A",)):
    return Market(
        dates=np.array(dates, dtype="datetime64[D]"),
        tickers=tickers,
        close=np.array(close, dtype=float).reshape(len(dates), len(tickers)),
    )


def test_year_end_mask_uses_the_calendar_only():
    dates = np.array(["2020-12-30", "2020-12-31", "2021-01-04", "2021-12-30"], dtype="datetime64[D]")
    # 2021-12-30 is a Thursday and 2021-12-31 a weekday: not the year's last day yet
    assert year_end_mask(dates).tolist() == [False, True, False, False]
    # the same day is a year end once it is the last weekday of its year (data cut there)
    assert year_end_mask(dates[:2]).tolist() == [False, True]
    friday = np.array(["2022-12-29", "2022-12-30"], dtype="datetime64[D]")
    assert year_end_mask(friday).tolist() == [False, True]


def test_select_between_and_errors():
    m = make(["2020-01-06", "2020-01-07", "2020-01-08"], [[1, np.nan], [2, 3], [3, 4]], ("A", "B"))
    only_b = m.select(["B"])
    assert only_b.n_days == 2 and only_b.tickers == ("B",)
    assert m.between(dt.date(2020, 1, 7), None).n_days == 2
    with pytest.raises(InputError, match="ticker C has no rows"):
        m.select(["C"])
    with pytest.raises(InputError, match="fewer than 2 trading days"):
        m.between(dt.date(2021, 1, 1), None)


def test_arrays_are_read_only():
    m = make(["2020-01-06", "2020-01-07"], [1.0, 2.0])
    with pytest.raises(ValueError):
        m.close[0, 0] = 5.0
    with pytest.raises(ValueError):
        m.deltas[1, 0] = 5.0


def test_reindex_and_fingerprint():
    m = make(["2020-01-06", "2020-01-08"], [1.0, 2.0])
    r = m.reindex(np.array(["2020-01-06", "2020-01-07", "2020-01-08"], dtype="datetime64[D]"))
    assert np.isnan(r.close[1, 0]) and r.close[2, 0] == 2.0
    assert m.fingerprint() == make(["2020-01-06", "2020-01-08"], [1.0, 2.0]).fingerprint()
    assert m.fingerprint() != make(["2020-01-06", "2020-01-08"], [1.0, 2.5]).fingerprint()
