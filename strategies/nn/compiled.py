"""numba's ``njit`` as the compiled day step and the losses use it: cached on disk, no bounds checks.

Compiled functions are cached (``cache=True``: next to the module, or in the user's
cache dir when that is not writable, or ``NUMBA_CACHE_DIR``); where no location is
writable they compile on each process start instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba


def jit(fn: Callable[..., Any], inline: str = "never", inner: bool = False) -> Callable[..., Any]:
    """``fn`` compiled (float32 kept float32: ``error_model="numpy"``, no bounds checks, no GIL).

    ``inner``: called only from other compiled functions, never from Python, so numba builds no
    Python wrapper (argument unboxing) for it: less to compile on a fresh install."""
    options: dict[str, Any] = {"boundscheck": False, "nogil": True, "error_model": "numpy", "inline": inline}
    options["no_cfunc_wrapper"] = True  # nothing here is called through a C function pointer
    if inner:
        options["no_cpython_wrapper"] = True
    try:
        return numba.njit(cache=True, **options)(fn)
    except RuntimeError:  # no writable cache location: compile on each process start
        return numba.njit(cache=False, **options)(fn)


def jit_inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`jit`, inlined into its callers by numba (the named pieces of a kernel: a call per
    (seed, ticker) passing ~20 arrays cost ~5% of the LSTM day step, measured side by side)."""
    return jit(fn, inline="always", inner=True)


def jit_inner(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`jit` for a function called only by other compiled functions (see ``inner``)."""
    return jit(fn, inner=True)
