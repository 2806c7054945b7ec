"""Locks on a runs directory, with ``fcntl.flock``: the kernel drops them when their process dies.

Why flock and not lock files that exist or not: a process killed with SIGKILL
cannot clean up, and a stale "lock exists" file would block the store until a
human removes it. An flock belongs to an open file; when the process dies, the
kernel closes the file and the lock is gone. The lock files themselves are
empty and may stay on disk; they mean nothing without a holder.

- :func:`runs_dir_lock`: one lock per runs directory (``<runs>/.lock``), held for
  short critical sections that must not interleave across processes (claiming
  sweep cells against the store, pruning).
- :class:`Claim`: one lock per key (``<runs>/.claims/<key>.lock``), held while a
  sweep computes a cell, so two identical sweeps at once never compute a cell twice.
- A run being written holds a claim on its own id (see ``engine.store.run_store``), so a
  ``.partial`` folder whose claim is free belongs to a dead process.

POSIX only (Linux, macOS), like the rest of the store's atomic renames.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.config.paths import check_name
from engine.store import writes

LOCK_FILE = ".lock"
CLAIMS = ".claims"


def _open(path: Path) -> int:
    """The lock file, created when missing; never through a link (one line when the disk refuses)."""
    root = path.parent.parent if path.parent.name == CLAIMS else path.parent
    writes.make_dirs(path.parent, root)
    return writes.open_no_follow(path, os.O_RDWR | os.O_CREAT, 0o644, root=root)


@contextmanager
def runs_dir_lock(root: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Hold the runs directory's lock (waiting up to ``timeout`` seconds, then TimeoutError)."""
    fd = _open(Path(root) / LOCK_FILE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{root}: the runs directory is locked by another process") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


class Claim:
    """An exclusive, non-blocking claim on ``key`` in a runs directory (see the module docstring)."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def try_acquire(cls, root: Path, key: str) -> Claim | None:
        """The claim, or None when another open file (any process) holds it."""
        path = Path(root) / CLAIMS / f"{check_name(key, 'claim key')}.lock"
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the holder unlinks the file on release: a lock on an unlinked file claims nothing
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            return None
        return cls(fd, path)

    @staticmethod
    def is_held(root: Path, key: str) -> bool:
        """True when some live process holds the claim on ``key`` (checked without keeping it)."""
        path = Path(root) / CLAIMS / f"{check_name(key, 'claim key')}.lock"
        if not path.exists():
            return False
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def release(self) -> None:
        """Give the claim up (idempotent); the empty lock file is removed when nobody else waits on it."""
        if self._fd is None:
            return
        try:
            # unlink while holding: a later claimant creates a fresh file; one that opened the
            # old file just before gets a lock on an unlinked inode, which try_acquire rejects
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
