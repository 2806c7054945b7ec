"""Progress of the pipeline: the one callback type every long-running step reports through.

A step reports ``progress(stage, done, total)``: ``stage`` names what is being
counted, ``done`` of ``total`` units are finished. The units depend on the stage:

========================  =====================================================
stage                     units of ``done`` / ``total``
========================  =====================================================
``"data"``                loading the data: 0 of 1 (started)
``"embedding headlines"`` headlines embedded (those not in the cache)
a strategy's warm-up      0 of 1, then 1 of 1: compiled code still loading or
                          compiling when the data is ready (Strategy.warm_up,
                          e.g. the LSTM's numba day step on a first run)
a strategy's label        trading days driven (rows of the data), e.g.
                          ``("lstm-stateful", 640, 8313)``
``"simulation"``          strategies and benchmarks simulated and measured
``"evidence"``            0 of 1 (the evidence block is being computed)
``"storing"``             0 of 1 (the run's files are being written)
``"sweep cells"``         cells of a sweep stored (complete or failed)
audit: its first stage    0 of 2 (the two full-data passes started)
``"passes"`` (audit)      the look-ahead audit's cut passes finished
a plugin's first use      0 of 1 (``"<label>: first use, auditing ..."``:
                          its quick audit started, engine.workflows.first_use)
========================  =====================================================

``done == total`` means the stage is finished; ``done == 0`` that it has started.
Calls come from the process running the step, in order, never concurrently.

:class:`ProgressEvent` is one call as a value: what a worker process writes to a
file (:meth:`ProgressEvent.to_dict`, plain JSON types) and a reader turns back into
an event (:meth:`ProgressEvent.from_dict`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class Progress(Protocol):
    """A progress callback: ``progress(stage, done, total)`` (see the module docstring for units)."""

    def __call__(self, stage: str, done: int, total: int, /) -> None: ...


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report: ``done`` of ``total`` units of ``stage`` are finished."""

    stage: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """``done / total`` in [0, 1] (0 when the total is unknown or zero)."""
        return min(1.0, max(0.0, self.done / self.total)) if self.total > 0 else 0.0

    def describe(self) -> str:
        """One line: the stage when it has just started, else ``"done/total stage done"``."""
        return self.stage if self.done == 0 else f"{self.done}/{self.total} {self.stage} done"

    def to_dict(self) -> dict[str, Any]:
        """``{"stage", "done", "total"}`` in plain JSON types (for a progress file)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ProgressEvent:
        """The event :meth:`to_dict` wrote (extra keys, e.g. times, are ignored)."""
        return cls(str(value["stage"]), int(value["done"]), int(value["total"]))


def for_stage(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    """``progress`` with its stage fixed to ``name``, as a ``(done, total)`` callback for code below the
    engine that counts its units but knows no stages (``feeds``' headline embedder); None stays None."""
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)
