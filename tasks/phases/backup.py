"""Before a phase rewrites services that own volumes while they run, archive those volumes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient

from tasks.engine.stack import running_containers
from tasks.engine.volumes import backup
from tasks.errors import EngineError
from tasks.model.compose import project_name, volume_name
from tasks.model.source import load_yaml, parse_yaml
from tasks.model.stack import BACKUPS


def _named_volumes(service: dict[str, Any]) -> set[str]:
    names = set()
    for mount in service.get("volumes", []) or []:
        if isinstance(mount, dict):
            if mount.get("type", "volume") == "volume" and mount.get("source"):
                names.add(str(mount["source"]))
        else:
            source = str(mount).split(":", 1)[0]
            if ":" in str(mount) and not source.startswith((".", "/", "~", "$")):
                names.add(source)
    return names


def volumes_to_back_up(old: dict[str, Any], new: dict[str, Any], project: str) -> list[str]:
    """Docker names of the volumes used by services that `new` removes or redefines (named as
    compose names them in `project`)."""
    old_services = old.get("services", {}) or {}
    new_services = new.get("services", {}) or {}
    declared = old.get("volumes", {}) or {}
    found: set[str] = set()
    for name, service in old_services.items():
        if new_services.get(name) != service:
            for key in _named_volumes(service or {}):
                found.add(volume_name(key, declared.get(key), project))
    return sorted(found)


def back_up_if_running(
    client: DockerClient, compose_file: Path, new_text: bytes, root: Path
) -> Path | None:
    """Archive the affected volumes into `root/backups/` when the project has running
    containers; the archive folder, or None when nothing needed saving.

    `EngineUnreachable` when no engine answers the question whether the project runs (then
    nothing runs); any failure of the backup itself is an `EngineError` that stops the phase.
    """
    old = load_yaml(compose_file, "compose file").data or {}
    project = project_name(old, compose_file)
    new = parse_yaml(new_text.decode("utf-8"), compose_file).data or {}
    names = volumes_to_back_up(old, new, project)
    if not names:
        return None
    if not running_containers(client, project):
        return None
    destination = root / BACKUPS / f"phase-6-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        backup(client, names, destination)
    except EngineError as error:
        raise EngineError(
            f"backing up {', '.join(names)} before the phase rewrites their services failed: "
            f"{error.problem}",
            f"{error.fix}; the phase changed nothing: run it again once a backup succeeds "
            "(`invoke volumes.backup`), or stop the stack first (`invoke stack.down`)",
        ) from None
    return destination
