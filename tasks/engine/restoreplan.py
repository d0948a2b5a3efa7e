"""Whether and how a volume is restored, decided before anything changes: the archives
checked against the backup's manifest, and one plan per volume (pure: tasks/engine/restore.py
carries it out)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import EngineError
from tasks.model.backupset import Archive, load_manifest
from tasks.pybuild.builder import sha256_of

ASIDE = re.compile(r"\.restore-(moving|old|done)-[0-9a-f]{12}\Z")


@dataclass(frozen=True)
class VolumeState:
    """What a restore needs to know about a volume before it changes anything."""

    name: str
    exists: bool
    empty: bool
    users: tuple[str, ...]
    leftovers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestorePlan:
    """How one volume is restored: created first or not, which containers are stopped for
    it, and which folder of a restore cut short is dealt with first."""

    volume: str
    archive: Path
    create: bool
    stop: tuple[str, ...]
    recover: str | None


def plan_restore(state: VolumeState, archive: Path, force: bool, stop: bool) -> RestorePlan:
    """The plan for one volume, or an `EngineError` naming why it is refused and the flag or
    step that allows it."""
    name = state.name
    if state.users and not stop:
        raise EngineError(
            f"volume {name} is in use by running container(s) {', '.join(state.users)}",
            "stop them first, or pass --stop to stop them for the restore and start them again",
        )
    if len(state.leftovers) > 1:
        raise EngineError(
            f"volume {name} holds {', '.join(state.leftovers)} from several interrupted restores",
            "keep the one with the data you want, remove the others, and run again",
        )
    if not state.empty and not force:
        raise EngineError(
            f"volume {name} is not empty",
            "pass --force to replace its contents (back it up first)",
        )
    recover = state.leftovers[0] if state.leftovers else None
    return RestorePlan(name, archive, not state.exists, state.users, recover)


def verified_archives(source: Path, names: list[str]) -> dict[str, Path]:
    """The archive of each volume in `names` (all of the backup's when empty), each a regular
    file in `source` whose SHA-256 matches the manifest; nothing is changed before this."""
    archives: dict[str, Archive] = load_manifest(source)
    wanted = names or list(archives)
    unknown = [n for n in wanted if n not in archives]
    if unknown:
        raise EngineError(
            f"volume {unknown[0]} is not in this backup", f"choose from {', '.join(archives)}"
        )
    found = {}
    for name in wanted:
        path = source / archives[name].file
        if path.is_symlink() or not path.is_file() or sha256_of(path) != archives[name].sha256:
            raise EngineError(
                f"{path.name} of volume {name} is missing or its checksum differs",
                "restore from an intact backup; nothing was changed",
            )
        found[name] = path
    return found
