"""engine.pipeline.prepare starts warm-ups (numba compiles) while the data loads, and names a slow one."""

from __future__ import annotations

import threading

from engine.pipeline.prepare import _finish_warm_ups, _start_warm_ups


class _Slow:
    def __init__(self, gate: threading.Event) -> None:
        self.gate = gate

    def warm_up(self):
        return "compiling something", self.gate.wait


class _Failing:
    def warm_up(self):
        def fail() -> None:
            raise RuntimeError("no compiler")

        return "compiling what fails", fail


def test_a_warm_up_still_running_when_the_data_is_ready_is_a_progress_stage():
    gate = threading.Event()
    started = _start_warm_ups((_Slow(gate), _Slow(gate)))  # one task per distinct description
    assert len(started) == 1
    events = []

    def progress(stage: str, done: int, total: int) -> None:
        events.append((stage, done, total))
        gate.set()

    _finish_warm_ups(started, progress)
    assert events == [("compiling something", 0, 1), ("compiling something", 1, 1)]


def test_a_finished_or_failed_warm_up_reports_nothing():
    started = _start_warm_ups((_Failing(),))
    started[0][1].join()
    events = []
    _finish_warm_ups(started, lambda *event: events.append(event))
    assert events == []


def test_the_book_for_the_fills_warm_up_counts_every_member():
    """Ten seeds and an ensemble make an 11-column book per ticker; a deterministic strategy one; a
    plugin whose members() fails counts one (its failure is reported where the engine drives it)."""
    from types import SimpleNamespace

    from engine.pipeline.prepare import _most_members
    from strategies.baselines import BuyAndHold

    class _Seeded:
        def members(self, seeds):
            return (*seeds, "ensemble")

    class _Broken:
        def members(self, seeds):
            raise RuntimeError("broken plugin")

    config = SimpleNamespace(seeds=tuple(range(10)))
    assert _most_members(config, (BuyAndHold(),)) == 1
    assert _most_members(config, (BuyAndHold(), _Seeded())) == 11
    assert _most_members(config, (_Broken(),)) == 1
