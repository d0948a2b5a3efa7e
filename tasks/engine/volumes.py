"""Named volumes: list them, archive them with a checksum manifest, restore them verified."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.exceptions import NoSuchVolume

from tasks.engine.client import engine_errors
from tasks.engine.errors import EngineError
from tasks.files import write_atomic
from tasks.pybuild.builder import sha256_of

MANIFEST = "manifest.json"
HELPERS = ("mcp-offline/debian:trixie", "debian:trixie-slim")


@dataclass(frozen=True)
class VolumeInfo:
    """A named volume and who uses it."""

    name: str
    exists: bool
    used_by: tuple[str, ...]


def helper_image(client: DockerClient) -> str:
    """A local image with tar and sh to move volume contents (no pull)."""
    for image in HELPERS:
        if client.image.exists(image):
            return image
    raise EngineError(
        "no helper image with tar is available",
        "run `invoke build.seed` (or pull debian:trixie-slim)",
    )


def describe(client: DockerClient, names: list[str]) -> list[VolumeInfo]:
    """Existence and users of each volume."""
    found = []
    with engine_errors("listing volumes"):
        for name in names:
            try:
                client.volume.inspect(name)
                exists = True
            except NoSuchVolume:
                exists = False
            users = client.container.list(all=True, filters={"volume": name}) if exists else []
            found.append(VolumeInfo(name, exists, tuple(c.name for c in users)))
    return found


def _tar(
    client: DockerClient, volume: str, folder: Path, command: list[str], read_only: bool
) -> None:
    mode = ":ro" if read_only else ""
    with engine_errors(f"archiving volume {volume}"):
        client.run(
            helper_image(client),
            command,
            remove=True,
            volumes=[(volume, f"/volume{mode}"), (str(folder), "/backup")],
        )


@contextmanager
def paused(client: DockerClient, volume: str) -> Iterator[list[str]]:
    """Freeze the running containers that use `volume` for the duration (they resume even when
    the copy fails or is interrupted); yields their names."""
    with engine_errors(f"listing the writers of {volume}"):
        writers = [c.name for c in client.container.list(filters={"volume": volume})]
    if writers:
        with engine_errors(f"pausing {', '.join(writers)}"):
            client.container.pause(writers)
    try:
        yield writers
    finally:
        if writers:
            with engine_errors(f"resuming {', '.join(writers)}"):
                client.container.unpause(writers)


def backup(client: DockerClient, names: list[str], destination: Path) -> dict[str, Any]:
    """One tar archive per existing volume plus a manifest of SHA-256 checksums.

    A volume a running container uses is copied while its writers are paused, so the archive is
    one consistent moment (crash-consistent, as a database recovers from a power cut); the
    manifest records the method. Archives are written under a `.partial` name and renamed when
    complete, and the manifest last, so an interrupted backup is never taken for a finished one.
    """
    destination.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "volumes": {},
    }
    for info in describe(client, names):
        if not info.exists:
            continue
        archive = f"{info.name}.tar"
        partial = f"{archive}.partial"
        with paused(client, info.name) as writers:
            _tar(
                client,
                info.name,
                destination,
                ["tar", "-C", "/volume", "--numeric-owner", "-cpf", f"/backup/{partial}", "."],
                True,
            )
        (destination / partial).replace(destination / archive)
        path = destination / archive
        manifest["volumes"][info.name] = {
            "archive": archive,
            "sha256": sha256_of(path),
            "bytes": path.stat().st_size,
            "in_use_by": list(info.used_by),
            "method": f"copied while {', '.join(writers)} paused" if writers else "copied at rest",
        }
    write_atomic(destination / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> dict[str, Any]:
    """The backup's manifest, every archive checked against its checksum first."""
    path = source / MANIFEST
    if not path.is_file():
        raise EngineError(
            f"{path} not found", "pass --src pointing at a folder made by volumes.backup"
        )
    manifest: dict[str, Any] = json.loads(path.read_text())
    for name, entry in manifest["volumes"].items():
        archive = source / entry["archive"]
        if not archive.is_file() or sha256_of(archive) != entry["sha256"]:
            raise EngineError(
                f"{archive.name} of volume {name} is missing or its checksum differs",
                "restore from an intact backup; nothing was changed",
            )
    return manifest


def is_empty(client: DockerClient, volume: str) -> bool:
    """True when the volume holds no files."""
    with engine_errors(f"inspecting volume {volume}"):
        out = client.run(
            helper_image(client),
            ["sh", "-c", "ls -A /volume | head -1"],
            remove=True,
            volumes=[(volume, "/volume:ro")],
        )
    return not str(out or "").strip()


def restore(client: DockerClient, source: Path, names: list[str], force: bool) -> list[str]:
    """Restore verified archives; a volume with data is replaced only with `force`."""
    manifest = read_manifest(source)
    wanted = names or list(manifest["volumes"])
    unknown = [n for n in wanted if n not in manifest["volumes"]]
    if unknown:
        raise EngineError(
            f"volume {unknown[0]} is not in this backup",
            f"choose from {', '.join(manifest['volumes'])}",
        )
    for name in wanted:
        try:
            client.volume.inspect(name)
        except NoSuchVolume:
            with engine_errors(f"creating volume {name}"):
                client.volume.create(name)
        if not force and not is_empty(client, name):
            raise EngineError(
                f"volume {name} is not empty",
                "pass --force to replace its contents (back it up first)",
            )
    for name in wanted:
        archive = manifest["volumes"][name]["archive"]
        script = (
            "find /volume -mindepth 1 -delete && "
            f"tar -C /volume --numeric-owner -xpf /backup/{archive}"
        )
        _tar(client, name, source.resolve(), ["sh", "-c", script], False)
    return wanted
