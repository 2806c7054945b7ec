"""Numba kernels compiled on their first call, and runnable as plain Python before that.

A :class:`KernelSet` gathers the ``@njit`` functions of one module. numba is imported when the
first of them is called, not when the module is imported, and then every kernel of the set is
wrapped at once in one copy of the module's globals, so that the kernels call each other's
compiled versions (numba reads a callee from the caller's globals). :meth:`Kernel.interpreted`
gives the same source as plain Python, calling the other kernels' plain versions: the same IEEE
double operations in the same order, without loading numba (engine.pipeline.fills uses it for
small books).
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any


class Kernel:
    """A numba kernel compiled on first call (numba imported then, not with its module).

    ``py_func``: the plain Python function; :attr:`interpreted`: it, calling the other kernels'
    plain functions (no numba at all); :attr:`signatures`: the compiled specializations.
    """

    def __init__(self, fn: Callable[..., Any], cache: bool, kernels: KernelSet) -> None:
        self.py_func = fn
        self.cache = cache
        self.kernels = kernels
        self.dispatcher: Any = None
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args: Any) -> Any:
        if self.dispatcher is None:
            self.kernels.compile_all()
        return self.dispatcher(*args)

    @property
    def signatures(self) -> list[Any]:
        """The compiled specializations (none before the first call)."""
        return [] if self.dispatcher is None else list(self.dispatcher.signatures)

    @property
    def interpreted(self) -> Callable[..., Any]:
        """This kernel as plain Python, every kernel it calls too."""
        return self.kernels.interpreted()[self.__name__]


class KernelSet:
    """The kernels of one module, compiled together (see the module docstring)."""

    def __init__(self) -> None:
        self.kernels: dict[str, Kernel] = {}  # in definition order
        self._build = threading.Lock()
        self._plain: dict[str, Any] = {}

    def njit(self, cache: bool = True) -> Callable[[Callable[..., Any]], Kernel]:
        """Mark a kernel: compiled on first call with numba's on-disk cache, without one where no
        cache dir is writable (numba tries beside the module, then the user's cache dir, or
        NUMBA_CACHE_DIR)."""

        def wrap(fn: Callable[..., Any]) -> Kernel:
            kernel = Kernel(fn, cache, self)
            self.kernels[fn.__name__] = kernel
            return kernel

        return wrap

    def _namespace(self, make: Callable[[Kernel, dict[str, Any]], Any]) -> dict[str, Any]:
        # one copy of the module's globals in which every kernel's name is what ``make`` builds
        first = next(iter(self.kernels.values()))
        space = dict(first.py_func.__globals__)
        for name, kernel in self.kernels.items():
            space[name] = make(kernel, space)
        return space

    def compile_all(self) -> None:
        """Wrap every kernel in a numba dispatcher (compiled or loaded from the cache on first call)."""
        with self._build:
            if all(k.dispatcher is not None for k in self.kernels.values()):
                return
            import numba

            def make(kernel: Kernel, space: dict[str, Any]) -> Any:
                fn = _function(kernel, space)
                try:
                    return numba.njit(cache=kernel.cache)(fn)
                except RuntimeError:
                    return numba.njit(cache=False)(fn)

            space = self._namespace(make)
            for name, kernel in self.kernels.items():
                kernel.dispatcher = space[name]

    def interpreted(self) -> dict[str, Any]:
        """Every kernel as plain Python, by name, calling each other's plain versions."""
        if not self._plain:
            self._plain.update(self._namespace(_function))
        return self._plain


def _function(kernel: Kernel, space: dict[str, Any]) -> Callable[..., Any]:
    fn = kernel.py_func
    return types.FunctionType(fn.__code__, space, fn.__name__, fn.__defaults__, fn.__closure__)
