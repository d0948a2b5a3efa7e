"""Backup folders on the host: private (0700 folders, 0600 files), built under a hidden name
beside their destination and moved into place only when complete, so a failed backup never
touches an earlier one."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from tasks.errors import StackError
from tasks.model.backupset import MANIFEST

PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600
_DEST_FIX = "a backup replaces its --dest: choose a new or empty folder, or an earlier backup"


def check_destination(destination: Path) -> None:
    """Refuse a destination that exists and is not a backup folder (replacing it would lose
    what it holds): it must be absent, an empty folder, or a folder of archives + manifest."""
    if not destination.exists() and not destination.is_symlink():
        return
    if destination.is_symlink() or not destination.is_dir():
        raise StackError(destination, "exists and is not a folder", _DEST_FIX)
    foreign = sorted(
        p.name
        for p in destination.iterdir()
        if not (p.name == MANIFEST or p.name.endswith((".tar", ".tar.partial")))
    )
    if foreign or (any(destination.iterdir()) and not (destination / MANIFEST).is_file()):
        what = f"it holds {foreign[0]}" if foreign else f"it has no {MANIFEST}"
        raise StackError(destination, f"is not a backup folder ({what})", _DEST_FIX)


@contextmanager
def building(destination: Path) -> Iterator[Path]:
    """A new private folder beside `destination` to write a backup into; when the block ends
    normally it becomes `destination` (an earlier backup there is replaced only then), and
    when it fails it is removed and `destination` is left as it was."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = destination.parent / f".{destination.name}.partial-{secrets.token_hex(4)}"
    work.mkdir(mode=PRIVATE_FOLDER)
    work.chmod(PRIVATE_FOLDER)
    try:
        yield work
        _publish(work, destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _publish(work: Path, destination: Path) -> None:
    if not destination.exists():
        work.rename(destination)
        return
    old = destination.parent / f".{destination.name}.old-{secrets.token_hex(4)}"
    destination.rename(old)
    try:
        work.rename(destination)
    except OSError:
        old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)


def private_file(path: Path) -> BinaryIO:
    """A new file readable by its owner only from its first byte (never an existing file or a
    symlink), open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.fdopen(os.open(path, flags, PRIVATE_FILE), "wb")
