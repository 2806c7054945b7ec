"""The audit's passes: one fresh process each (forked from the fork server, or a fresh python).

The strategies here are rebuilt by module:Class in the passes' processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.random  # (as torch does: the fork server then holds numpy's global generator)
import pytest

from engine.workflows import audit as audit_module
from engine.workflows.audit import audit
from engine.workflows.audit_passes import ForkServer, Passes, pass_environment
from strategies import History, OnlineStrategy
from tests.conftest import random_walk_market
from tests.fixtures.leaky import HonestOnline, PeekTomorrow

PID_DIR_ENV = "STOCKRNN_TEST_AUDIT_PIDS"


class GlobalNoise(OnlineStrategy):
    """Unseeded through numpy's legacy global generator (``random`` reseeds itself after a fork)."""

    name = "global-noise"

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        pass

    def decide(self, history: History) -> np.ndarray:
        k = len(history.tickers)
        return np.full(k, float(np.random.random() > 0.5) / k)


class WritesPid(OnlineStrategy):
    """Honest; leaves a file named after its process id (where the test says) to count processes."""

    name = "writes-pid"

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        (Path(os.environ[PID_DIR_ENV]) / str(os.getpid())).touch()

    def decide(self, history: History) -> np.ndarray:
        return np.full(len(history.tickers), 1.0 / len(history.tickers))


class ExitsOnDayFive(OnlineStrategy):
    """Ends its process in the middle of a pass."""

    name = "exits"

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        pass

    def decide(self, history: History) -> np.ndarray:
        if len(history.dates) == 5:
            os._exit(7)
        return np.zeros(len(history.tickers))


@pytest.fixture(scope="module")
def market():
    return random_walk_market(n=120, tickers=("A", "B"), seed=5)


def test_unseeded_global_generators_differ_between_passes(market):
    # forked passes must not inherit one copy of the global generators' state
    report = audit(GlobalNoise, market, (0,), cuts=1)
    assert report.finding == "nondeterministic", report.problems


def test_generators_seeded_at_import_stay_deterministic(market):
    # a fresh interpreter per pass would run the module's seeding each time: same draws in every pass
    from tests.engine.workflows.seeded_at_import import SeededAtImport

    report = audit(SeededAtImport, market, (0,), cuts=1)
    assert report.finding == "pass", report.problems


def test_every_pass_runs_in_a_process_of_its_own(market, tmp_path, monkeypatch):
    folder = tmp_path / "pids"
    folder.mkdir()
    monkeypatch.setenv(PID_DIR_ENV, str(folder))
    report = audit(WritesPid, market, (0,), cuts=3)
    assert report.passed, report.problems
    pids = {int(p.name) for p in folder.iterdir()}
    assert len(pids) == report.runs == 8 and os.getpid() not in pids


def test_a_pass_whose_process_dies_is_an_error_naming_its_exit_code(market):
    report = audit(ExitsOnDayFive, market, (0,), cuts=2)
    assert report.finding == "error" and "exited with code 7" in report.problems[0]


def test_without_fork_each_pass_is_a_fresh_interpreter(market, monkeypatch):
    monkeypatch.setattr(audit_module, "can_fork", lambda: False)
    assert audit(PeekTomorrow, market, (0,), cuts=2).finding == "look-ahead"
    assert audit(HonestOnline, market, (0, 1), cuts=2).passed


def test_passes_fall_back_to_fresh_interpreters_when_the_fork_server_is_gone(market, tmp_path):
    passes = Passes("tests.fixtures.leaky:HonestOnline", {}, (0,), 1.0, pass_environment())
    with ForkServer(passes.spec, passes.environment) as server:
        server._process.kill()
        server._reader.join(timeout=30)  # the server's answers end: no pass is sent to it any more
        status, targets = server.run(passes.job("full", market), tmp_path, 0)
    assert status == "ok" and isinstance(targets, np.ndarray) and targets.shape[0] == market.n_days
