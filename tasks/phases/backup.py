"""Before a phase rewrites services that own volumes while they run, archive those volumes."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import yaml
from python_on_whales import DockerClient

from tasks.engine.client import engine_errors
from tasks.engine.volumes import backup

BACKUP_DIR = "backups"


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


def volumes_to_back_up(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Docker names of the volumes used by services that `new` removes or redefines."""
    old_services = old.get("services", {}) or {}
    new_services = new.get("services", {}) or {}
    declared = old.get("volumes", {}) or {}
    found: set[str] = set()
    for name, service in old_services.items():
        if new_services.get(name) != service:
            for key in _named_volumes(service or {}):
                found.add(str((declared.get(key) or {}).get("name", key)))
    return sorted(found)


def project_name(data: dict[str, Any], compose_file: Path) -> str:
    """The compose project: the file's `name:`, else its folder's name as compose derives it."""
    name = data.get("name") or compose_file.parent.name
    return re.sub(r"[^a-z0-9_-]", "", str(name).lower())


def back_up_if_running(
    client: DockerClient, compose_file: Path, new_text: bytes, root: Path
) -> Path | None:
    """Archive the affected volumes into `root/backups/` when the project has running
    containers; the archive folder, or None when nothing needed saving."""
    old = yaml.safe_load(compose_file.read_bytes()) or {}
    names = volumes_to_back_up(old, yaml.safe_load(new_text) or {})
    if not names:
        return None
    project = project_name(old, compose_file)
    with engine_errors(f"listing the containers of {project}"):
        running = client.container.list(filters={"label": f"com.docker.compose.project={project}"})
    if not running:
        return None
    destination = root / BACKUP_DIR / f"phase-6-{time.strftime('%Y%m%dT%H%M%S')}"
    backup(client, names, destination)
    return destination
