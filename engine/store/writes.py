"""Every write into the store: atomic, never through a symbolic link, one line when the disk says no.

A runs directory is shared and copied between machines, so a link planted in it
(``<runs>/sweeps/x.html -> ~/.bashrc``, a run folder that is a link) must never make
the program write outside it. Every file the store writes goes through
:func:`write_bytes` (and the text, JSON, Parquet and stream forms built on it):

- the target, and every folder between the runs directory (``root``) and it, is checked
  with ``lstat``: a symbolic link anywhere there is refused. The runs directory itself
  may be a link (a user's choice of disk); what is below it may not. Without ``root``
  (a file the user named on the command line, outside the store) only the target is.
- the folder is opened (with ``O_NOFOLLOW`` inside the store) and the data written to a temp
  file created in it with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (never an existing file,
  never a link), fsynced, then renamed over the target (``os.replace`` relative to the
  folder's descriptor) and the folder fsynced: a reader sees the old file or the new
  one, never half of one, and a crash leaves at most a dot-named temp file.
- an ``OSError`` on the way (disk full, quota, read-only file system, permission
  denied, ...) becomes :class:`StoreWriteError`, an :class:`InputError` (exit 2): one line
  naming the path and what the system said; the temp file is removed.

Folders are made with :func:`make_dirs` (each new level checked the same way).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from feeds.errors import InputError

__all__ = [
    "StoreWriteError",
    "check_target",
    "make_dirs",
    "open_no_follow",
    "store_error",
    "write_bytes",
    "write_json",
    "write_parquet",
    "write_stream",
    "write_text",
]

# what the system says, in words a user acts on
_REASONS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ELOOP: "a symbolic link is in the way (the store never writes through links)",
}


class StoreWriteError(InputError):
    """The store could not be written (a link in the way, disk full, read-only, no permission): exit 2."""


def store_error(exc: OSError, path: Path | str) -> StoreWriteError:
    """One line for ``exc`` raised while writing ``path``: the path and what the system said."""
    if isinstance(exc, StoreWriteError):
        return exc
    reason = _REASONS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    return StoreWriteError(f"cannot write {path}: {reason}")


def _link_refused(path: Path) -> StoreWriteError:
    return StoreWriteError(
        f"cannot write {path}: it is a symbolic link (the store never writes through links; remove it)"
    )


def _chain(path: Path, root: Path | None) -> list[Path]:
    """The paths to check, outermost first: every level below ``root`` down to ``path``."""
    if root is None:
        return [path]
    try:
        rel = path.relative_to(root)
    except ValueError:
        return [path]  # not under root: a path of the user's own
    if ".." in rel.parts:
        raise StoreWriteError(f"cannot write {path}: '..' in a path inside the store")
    return [root.joinpath(*rel.parts[: i + 1]) for i in range(len(rel.parts))]


def check_target(path: Path, root: Path | None = None) -> None:
    """Refuse ``path`` (StoreWriteError) when it, or a folder between ``root`` and it, is a symbolic link.

    Levels that do not exist yet are fine (they are created by :func:`make_dirs`).
    """
    for level in _chain(Path(path), None if root is None else Path(root)):
        try:
            mode = os.lstat(level).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise store_error(exc, level) from None
        if stat.S_ISLNK(mode):
            raise _link_refused(level)


def make_dirs(path: Path, root: Path | None = None) -> Path:
    """Create folder ``path`` and the missing levels between ``root`` and it, refusing links on the way.

    ``root`` itself (the runs directory) is created with its parents when missing.
    Returns ``path``.
    """
    path = Path(path)
    try:
        if root is None or not path.is_relative_to(root):
            path.mkdir(parents=True, exist_ok=True)
            return path
        Path(root).mkdir(parents=True, exist_ok=True)
        for level in _chain(path, Path(root)):
            with contextlib.suppress(FileExistsError):
                os.mkdir(level)
            mode = os.lstat(level).st_mode
            if stat.S_ISLNK(mode):
                raise _link_refused(level)
            if not stat.S_ISDIR(mode):
                raise StoreWriteError(f"cannot write {level}: not a folder")
    except OSError as exc:
        raise store_error(exc, getattr(exc, "filename", None) or path) from None
    return path


def open_no_follow(path: Path, flags: int, mode: int = 0o666, root: Path | None = None) -> int:
    """``os.open`` of a file in the store that refuses a link (``O_NOFOLLOW``); errors as one line.

    For files written in place (lock files); everything else uses :func:`write_bytes`.
    """
    path = Path(path)
    check_target(path, root)
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_refused(path) from None
        raise store_error(exc, path) from None


def write_bytes(path: Path, data: bytes | bytearray | memoryview, *, root: Path | None = None) -> Path:
    """Write ``data`` to ``path`` atomically, never through a link (see the module docstring)."""
    path = Path(path)
    check_target(path, root)
    inside = root is not None and path.parent != Path(root) and path.is_relative_to(root)
    try:
        folder = os.open(
            path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (os.O_NOFOLLOW if inside else 0)
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_refused(path.parent) from None
        raise store_error(exc, path) from None
    tmp = f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    created = False
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=folder
        )
        created = True
        try:
            view = memoryview(data).cast("B")
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        # checked again at the last moment, relative to the folder we hold: a link put there meanwhile
        try:
            if stat.S_ISLNK(os.stat(path.name, dir_fd=folder, follow_symlinks=False).st_mode):
                raise _link_refused(path)
        except FileNotFoundError:
            pass
        os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        created = False
        os.fsync(folder)
    except OSError as exc:
        raise store_error(exc, path) from None
    finally:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
        os.close(folder)
    return path


def write_text(path: Path, text: str, *, root: Path | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (:func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"), root=root)


def write_json(path: Path, payload: Any, *, root: Path | None = None) -> Path:
    """Write ``payload`` as indented JSON (no NaN: refused) with a final newline, atomically."""
    return write_text(path, json.dumps(payload, indent=2, allow_nan=False) + "\n", root=root)


def write_stream(path: Path, writer: Callable[[IO[bytes]], Any], *, root: Path | None = None) -> Path:
    """Write what ``writer(fh)`` writes into a binary stream (``torch.save``, ``np.save``) atomically.

    The bytes are built in memory first, so a writer library never touches the disk itself:
    a full disk is an ``OSError`` of ours, named, never a library's own error text.
    """
    buffer = io.BytesIO()
    writer(buffer)
    return write_bytes(path, buffer.getbuffer(), root=root)


def write_parquet(path: Path, frame: Any, *, root: Path | None = None) -> Path:
    """Write a polars DataFrame as Parquet atomically (:func:`write_stream`)."""
    return write_stream(path, frame.write_parquet, root=root)
