"""A backup folder's manifest, read and checked before a restore touches anything.

`volumes.backup` writes one tar archive per volume, named `<volume>.tar`, and `manifest.json`
with each archive's SHA-256. A restore trusts nothing in the manifest beyond that shape: a
volume name is one Docker accepts, and an archive name is exactly `<volume>.tar`, so no name
can point outside the folder or carry anything a shell would act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.source import load_json, present

MANIFEST = "manifest.json"
# Docker's rule for the name of a volume (the local driver's).
_VOLUME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]+\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_SHELL = set(";&|`$<>(){}*?[]!#~'\"\\ \t\n")
_FIX = "restore from a folder written by `invoke volumes.backup`, with its manifest.json unedited"


@dataclass(frozen=True)
class Archive:
    """One volume's archive as the manifest records it."""

    volume: str
    file: str
    sha256: str
    size: int


def archive_name(volume: str) -> str:
    """The file name of a volume's archive in a backup folder."""
    return f"{volume}.tar"


def volume_name_problem(name: str) -> str | None:
    """Why Docker would refuse `name` as a volume name (None when it is a good one)."""
    if _VOLUME.match(name):
        return None
    return f"{name!r} is not a volume name (letters, digits, _ . -, two or more, no leading . or -)"


def archive_problem(volume: str, archive: object) -> str | None:
    """Why `archive` cannot be the archive of `volume` (None when it is `<volume>.tar`)."""
    if archive == archive_name(volume):
        return None
    text = str(archive)
    if not isinstance(archive, str):
        why = "it is not a file name"
    elif "/" in text or "\\" in text or ".." in text:
        why = "it points outside the backup folder"
    elif _SHELL & set(text):
        why = "it holds characters a shell would act on"
    else:
        why = "an archive is named after its volume"
    return f"archive {text!r} of volume {volume} is refused: {why}; expected {archive_name(volume)}"


def parse_manifest(data: Any, path: Path) -> dict[str, Archive]:
    """Each volume's archive from a parsed manifest; a `StackError` (file, key, fix) for any
    entry that is not exactly what `volumes.backup` writes."""
    volumes = data.get("volumes") if isinstance(data, Mapping) else None
    if not isinstance(volumes, Mapping):
        raise StackError(path, "has no `volumes` mapping", _FIX, key="volumes")
    found: dict[str, Archive] = {}
    for volume, entry in volumes.items():
        key = f"volumes.{volume}"
        problem = volume_name_problem(str(volume))
        if problem is None and not isinstance(entry, Mapping):
            problem = "must be a mapping of archive, sha256 and bytes"
        if problem is None:
            problem = archive_problem(volume, entry.get("archive"))
        if problem is None and not _SHA256.match(str(entry.get("sha256", ""))):
            problem = f"sha256 of volume {volume} is not 64 lowercase hex digits"
        size = entry.get("bytes") if isinstance(entry, Mapping) else None
        if problem is None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            problem = f"bytes of volume {volume} is not a size"
        if problem is not None:
            raise StackError(path, problem, _FIX, key=key)
        found[volume] = Archive(volume, entry["archive"], entry["sha256"], int(size or 0))
    return found


def load_manifest(folder: Path) -> dict[str, Archive]:
    """The archives `folder/manifest.json` lists; a `StackError` when it is missing, not JSON
    or not the shape `volumes.backup` writes."""
    path = folder / MANIFEST
    if not present(path):
        raise StackError(
            path, "not found", "pass --src pointing at a folder made by `invoke volumes.backup`"
        )
    return parse_manifest(load_json(path, "backup manifest", _FIX).data, path)
