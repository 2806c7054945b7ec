"""Audit passes in fresh processes: one pass, or a fork server that starts one process per pass.

``python -m engine.workflows.audit_worker JOB OUT``: one pass in this fresh interpreter.
``JOB`` is a pickle of :class:`engine.workflows.audit_passes.Pass` written by the auditing
process (the only process that writes it: nothing read here comes from a user's file);
``OUT`` receives a pickle of ``("ok", targets)`` or ``("error", message)``.

``python -m engine.workflows.audit_worker --serve SPEC``: a fork server. It imports what
every pass needs (numpy, torch, numba, the engine, the strategy's module) and loads the
strategy's compiled numba kernels from their disk cache, once, without calling the
strategy and without any data; then, per line ``INDEX JOB OUT ERR`` read on stdin,
it forks a fresh process that runs that one pass (stderr to ``ERR``) and exits, and
answers ``INDEX EXITCODE`` on stdout when that process has ended. Each pass thus starts
from the same just-imported interpreter, as a fresh ``python`` would, holds only its own
data, and shares no module state, cache or memo with another pass (a fork copies memory;
nothing a pass does reaches the server or a sibling). Only imports and compiled code are
reused, which saves each pass the ~3 s of importing torch and numba.
"""

from __future__ import annotations

import os
import pickle
import select
import sys
import traceback
from pathlib import Path


def main(job_path: str, out_path: str) -> None:
    """Run the pass pickled at ``job_path`` and write its result to ``out_path``."""
    from engine.workflows.audit_passes import run_pass

    job = pickle.loads(Path(job_path).read_bytes())
    Path(job_path).unlink()  # the pass's own data only; nothing else stays on disk
    result = run_pass(job)
    Path(out_path).write_bytes(pickle.dumps(result))


def preload(spec: str) -> None:
    """Import what a pass of ``spec`` imports and load its numba kernels; run nothing of it.

    A strategy that fails to import is left to its pass, which reports the error.
    """
    import engine.workflows.audit_passes  # noqa: F401  (numpy, polars, the engine's drive)
    from strategies.registry import resolve

    try:
        cls = resolve(spec)
    except Exception:  # the pass itself raises it again and reports it
        return
    _load_numba_kernels(sys.modules.get(cls.__module__))


def _load_numba_kernels(module: object) -> None:
    """Load every cached overload of the numba functions of ``module``'s package from disk.

    Compiled code only: the disk cache's index names the signatures compiled before;
    each is loaded (``Dispatcher.compile`` finds it in the cache), none is executed.
    """
    if module is None or "numba" not in sys.modules:
        return
    from numba.core.dispatcher import Dispatcher

    package = getattr(module, "__name__", "").split(".")[0]
    for name, loaded in list(sys.modules.items()):
        if name.split(".")[0] != package:
            continue
        for value in list(vars(loaded).values()):
            if isinstance(value, Dispatcher):
                _load_cached(value)


def _load_cached(dispatcher: object) -> None:
    cache = getattr(dispatcher, "_cache", None)
    try:
        index = cache._cache_file._load_index()  # type: ignore[union-attr]
        magic = dispatcher.targetctx.codegen().magic_tuple()  # type: ignore[attr-defined]
        for key in list(index):  # (signature, target machine, source hashes)
            if key[1] == magic:
                dispatcher.compile(key[0])  # type: ignore[attr-defined]
    except Exception:  # no cache, another numba version: the pass loads or compiles it itself
        return


def serve(spec: str) -> None:
    """The fork server's loop (see the module docstring); ends when stdin closes and all passes have."""
    generators = _Generators()
    preload(spec)
    generators.preloaded()
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    running: dict[int, str] = {}
    buffer = b""
    stdin = sys.stdin.fileno()
    reading = True
    while reading or running:
        ready, _, _ = select.select([stdin] if reading else [], [], [], 0.01)
        if ready:
            chunk = os.read(stdin, 65536)
            reading = bool(chunk)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                index, job, result, errors = line.decode().split("\t")
                running[_fork_pass(job, result, errors, generators)] = index
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            out.write(f"{running.pop(pid)}\t{os.waitstatus_to_exitcode(status)}\n")
            out.flush()
    os._exit(0)  # nothing to save; a normal exit tears torch and numba down for ~2 s


def _fork_pass(job: str, result: str, errors: str, generators: _Generators) -> int:
    """Fork a process that runs the pass in ``job`` (stderr to ``errors``); its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        generators.after_fork()
        main(job, result)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stderr.flush()
        os._exit(code)


class _Generators:
    """The global random generators of a forked pass as in a fresh interpreter that imported the same.

    Left alone, every fork would copy the server's numpy generator (seeded from the OS
    once) and two passes would draw the same "unseeded" numbers, hiding unseeded
    randomness from the determinism pass; ``random`` reseeds itself after a fork, which
    would in turn make a module's own ``random.seed(0)`` at import look nondeterministic.
    So: a generator that the imports left as it was is seeded from the OS in each pass (as a
    fresh interpreter's would be), one that they seeded keeps that state (as it would in a
    fresh interpreter importing the same module). torch's default generator starts from a
    fixed seed in a fresh interpreter too: its copy is already what a fresh one would hold.
    """

    def __init__(self) -> None:
        import random

        import numpy.random

        self._random = random.getstate()
        self._numpy = numpy.random.get_state()
        self._keep_random = self._keep_numpy = False

    def preloaded(self) -> None:
        """Note which generators the imports changed (seeded or drew from)."""
        import random

        import numpy.random

        self._keep_random = random.getstate() != self._random
        self._random = random.getstate()
        now = numpy.random.get_state()
        self._keep_numpy = any(not _equal(a, b) for a, b in zip(now, self._numpy, strict=True))

    def after_fork(self) -> None:
        """In the forked pass, before it runs anything."""
        import random

        import numpy.random

        if self._keep_random:
            random.setstate(self._random)  # undo the reseed after fork: the import had seeded it
        if not self._keep_numpy:
            numpy.random.seed()  # from the OS, as a fresh interpreter's


def _equal(a: object, b: object) -> bool:
    """Whether two parts of a numpy generator state are equal (arrays element-wise)."""
    import numpy as np

    return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else a == b


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        main(sys.argv[1], sys.argv[2])
