"""Writing a file so that an interruption never leaves half of it, and runs that would work on
the same files at once taking turns."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tasks.errors import Failure

_ATTEMPTS = 8


def _temp_name(path: Path) -> Path:
    """A fresh, unguessable name beside `path` for its next content."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")


def _create(path: Path, mode: int) -> tuple[int, Path]:
    """A new temporary file beside `path`, opened for writing. Created exclusively and
    without following a symbolic link: whatever already sits at the name (a link planted
    there, another run's file) is never written through."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_ATTEMPTS):
        temp = _temp_name(path)
        try:
            return os.open(temp, flags, mode), temp
        except FileExistsError:
            continue
    raise Failure(
        f"cannot write {path}: {_ATTEMPTS} temporary names beside it were already taken "
        f"(last {temp.name}). Fix: remove the files named .{path.name}.*.partial there"
    )


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the rename) to disk; a file system that cannot is skipped."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(handle)


def write_atomic(
    path: Path, data: str | bytes, *, private: bool = False, mode_of: Path | None = None
) -> None:
    """Write `data` (text as UTF-8) to `path` so that it holds the old content or the new,
    never a part: through a temporary file of a unique name beside it (runs writing the same
    file at once never share one), flushed to disk, renamed over `path`, and the folder
    flushed. `private`: readable by its owner only (mode 600) from the first byte; else the
    file keeps the mode of `mode_of`, or of the file it replaces."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    handle, temp = _create(path, 0o600 if private else 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if mode_of is not None:
            shutil.copymode(mode_of, temp)
        elif not private and path.is_file():
            shutil.copymode(path, temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (made when missing) while the block runs: a
    second run that takes the same lock waits for the first to finish."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
