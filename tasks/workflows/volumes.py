"""Backing up and restoring the stack's named volumes."""

from __future__ import annotations

import time
from pathlib import Path

from tasks.engine.client import docker_client
from tasks.engine.restore import restore as restore_volumes
from tasks.engine.volumes import backup as backup_volumes
from tasks.model.stack import BACKUPS, load_stack
from tasks.model.volumenames import volume_names
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT


def backup(dest: str, volumes: list[str]) -> Outcome:
    """Archive each named volume (all of the stack's by default) into `dest` (default:
    backups/<UTC time>), with a SHA-256 manifest; one line per volume and where it went."""
    target = (
        Path(dest) if dest else REPO_ROOT / BACKUPS / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    )
    names = volume_names(volumes, "volumes.backup") or load_stack(REPO_ROOT).compose.volume_names()
    manifest = backup_volumes(docker_client(), names, target.resolve())
    views: list[object] = [
        f"{name}: {entry['bytes'] / 1e6:.1f} MB sha256 {entry['sha256'][:12]}, {entry['method']}"
        for name, entry in manifest["volumes"].items()
    ]
    views.append(f"backup written to {target}")
    return Outcome({"dest": str(target), **manifest}, views)


def restore(src: str, volumes: list[str], force: bool, stop: bool) -> Outcome:
    """Restore volumes (every one of the backup by default) from the backup in `src`."""
    names = volume_names(volumes, "volumes.restore")
    restored = restore_volumes(docker_client(), Path(src), names, force, stop)
    line = f"restored {', '.join(restored)} from {src}"
    return Outcome({"restored": restored, "src": src}, [line])
