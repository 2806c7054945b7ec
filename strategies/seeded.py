"""A base for seeded torch strategies: seeds, members, threads and determinism handled as the built-ins do.

Subclass :class:`SeededOnlineStrategy` (or :class:`SeededWalkForwardStrategy`) and
write ``setup(history)`` instead of ``begin``; ``self.seeds`` holds the run's seeds
and ``self.generators[seed]`` a ``torch.Generator`` per seed
(:func:`strategies.nn.seeding.seed_generator`: a seed's draws do not depend on the
other seeds). From ``begin`` to ``end`` torch runs on one intra-op thread with
deterministic algorithms (results independent of the core count; also the fastest
for small models), restored afterwards, also when the run fails. ``self.device`` is
the run's torch device (:func:`strategies.nn.device.current_device`; the CPU outside
a run): put models and inputs there with ``to(self.device)`` and bring outputs back
with ``.cpu()`` before ``.numpy()``. Members are the
seeds, plus ``"ensemble"`` when the parameters have ``ensemble=True`` and there are
several seeds. The built-in learned strategies (``lstm-*``, ``transformer``,
``*-annual``) subclass these bases too.

Three hooks: :meth:`torch_device` (e.g. keep a model on the CPU whatever the run's
device), ``deterministic_on_cpu`` (False: torch's deterministic mode only on an
accelerator; on the CPU with one thread the built-ins' ops are deterministic
already, and the mode would NaN-fill every new tensor) and :meth:`uses_torch`
(False: this run computes without torch, as the compiled LSTM does; then nothing
of torch is touched in ``begin``, and ``device`` and ``generators`` are made on
first use: importing torch costs about a second).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from strategies.base import Member, OnlineStrategy, WalkForwardStrategy
from strategies.history import History
from strategies.learning import members_of
from strategies.nn.seeding import seed_generator

if TYPE_CHECKING:
    import torch

    from strategies.nn.torch_threads import TorchSettings

__all__ = ["SeededOnlineStrategy", "SeededWalkForwardStrategy"]


class _TorchSeeded:
    """Shared by the two seeded bases (a mixin placed before the style)."""

    stochastic: ClassVar[bool] = True
    # torch's deterministic algorithms on the CPU too (on an accelerator always)
    deterministic_on_cpu: ClassVar[bool] = True
    params: Any
    seeds: tuple[int, ...]
    _device: Any = None
    _generators: dict[int, torch.Generator] | None = None

    def members(self, seeds: tuple[int, ...]) -> tuple[Member, ...]:
        return members_of(seeds, bool(getattr(self.params, "ensemble", False)))

    def torch_device(self) -> torch.device:
        """The device this strategy's models run on (called in ``begin``): the run's by default."""
        from strategies.nn.device import current_device

        return current_device()

    def uses_torch(self) -> bool:
        """Whether this run of the strategy computes with torch (asked in ``begin``, seeds set)."""
        return True

    @property
    def device(self) -> torch.device:
        """The run's torch device for this strategy's models (:meth:`torch_device`, asked once)."""
        if self._device is None:
            self._device = self.torch_device()
        return self._device

    @device.setter
    def device(self, value: torch.device) -> None:
        self._device = value

    @property
    def generators(self) -> dict[int, torch.Generator]:
        """One CPU ``torch.Generator`` per seed (:func:`strategies.nn.seeding.seed_generator`), made when
        first asked."""
        if self._generators is None:
            self._generators = {seed: seed_generator(seed) for seed in self.seeds}
        return self._generators

    @generators.setter
    def generators(self, value: dict[int, torch.Generator]) -> None:
        self._generators = value

    def _enter_torch(self, seeds: tuple[int, ...]) -> None:
        self.seeds = tuple(seeds)
        self._device, self._generators = None, None
        self._torch_before: TorchSettings | None = None
        if not self.uses_torch():
            return
        from strategies.nn.torch_threads import pin_torch

        deterministic = self.deterministic_on_cpu or self.device.type != "cpu"
        self._torch_before = pin_torch(deterministic=deterministic)

    def _exit_torch(self) -> None:
        before = getattr(self, "_torch_before", None)
        if before is not None:
            from strategies.nn.torch_threads import restore_torch

            restore_torch(before)
            self._torch_before = None

    def teardown(self) -> None:
        """Release big resources after the last day (also after a failure)."""


class SeededOnlineStrategy(_TorchSeeded, OnlineStrategy):
    """An online strategy with one model per seed; write ``setup``, ``learn`` and ``decide``."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        self._enter_torch(seeds)
        self.setup(history)

    @abstractmethod
    def setup(self, history: History) -> None:
        """Build models and optimizers (``history`` holds day 0 only; seeds in ``self.seeds``)."""

    def end(self) -> None:
        try:
            self.teardown()
        finally:
            self._exit_torch()


class SeededWalkForwardStrategy(_TorchSeeded, WalkForwardStrategy):
    """A walk-forward strategy with one model per seed; write ``setup``, ``fit`` and ``decide``."""

    def begin(self, history: History, seeds: tuple[int, ...]) -> None:
        self._enter_torch(seeds)
        self.setup(history)

    def setup(self, history: History) -> None:
        """Optional set-up before day 0 (``history`` holds day 0 only)."""

    def end(self) -> None:
        try:
            self.teardown()
        finally:
            self._exit_torch()
