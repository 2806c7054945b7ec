"""The charts' log value axis: readable ticks at any span."""

from __future__ import annotations

from engine.dashboard.style import log_ticks


def test_log_ticks_step_1_2_5_and_label_whole_values():
    ticks, text = log_ticks(0.8, 60)
    assert ticks == [1, 2, 5, 10, 20, 50]
    assert text == ["1", "2", "5", "10", "20", "50"]
    ticks, text = log_ticks(1, 1e6)  # long spans: one tick per decade, no crowding
    assert ticks == [1, 10, 100, 1000, 10000, 100000, 1000000] and text[4] == "10,000"
    ticks, text = log_ticks(0.9, 2.9)  # short spans: finer steps, still at least 4 ticks
    assert text == ["1", "1.5", "2", "3"]
