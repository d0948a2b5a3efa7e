"""Named volumes: list them, and archive them into private backup folders with a checksum
manifest. Volume contents move through a throwaway helper container as a tar stream on its
stdin or stdout, so no host folder is mounted and no file name reaches a shell."""

from __future__ import annotations

import json
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from python_on_whales import DockerClient
from python_on_whales.exceptions import NoSuchVolume

from tasks.engine.client import engine_errors, engine_unreachable
from tasks.errors import EngineError, EngineUnreachable
from tasks.files import write_atomic
from tasks.model.backupfolder import building, check_destination, private_file
from tasks.model.backupset import MANIFEST, archive_name
from tasks.pybuild.builder import sha256_of

HELPERS = ("mcp-offline/debian:trixie", "debian:trixie-slim")
NO_SPACE = "No space left on device"
TAR = ["tar", "--numeric-owner"]


@dataclass(frozen=True)
class VolumeInfo:
    """A named volume and who uses it."""

    name: str
    exists: bool
    used_by: tuple[str, ...]


def helper_image(client: DockerClient) -> str:
    """A local image with tar and sh to move volume contents (no pull)."""
    with engine_errors("looking for a helper image"):
        found = [image for image in HELPERS if client.image.exists(image)]
    if found:
        return found[0]
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


def running_users(client: DockerClient, volume: str) -> list[str]:
    """Names of the running (or paused) containers that mount `volume`, sorted."""
    with engine_errors(f"listing the containers that use {volume}"):
        return sorted(c.name for c in client.container.list(filters={"volume": volume}))


def run_helper(
    client: DockerClient,
    mounts: dict[str, str],
    command: list[str],
    action: str,
    kept: str,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
) -> str:
    """Run `command` in a throwaway helper container with the named volumes of `mounts`
    (volume -> path; a path ending in `:ro` is read-only), no network and no log kept (a tar
    stream on stdout must not land in a container log). `stdin`/`stdout` stream bytes; without
    `stdout` the command's output is returned as text.

    A failure names `action` and the command's own last error line; its fix is for the real
    cause (start the engine only when none answered, make room when a disk or volume is full)
    followed by `kept`, what the failure left intact.
    """
    argv = [str(word) for word in client.client_config.docker_cmd]
    argv += ["run", "--rm", "--network", "none", "--log-driver", "none"]
    argv += ["-i"] if stdin is not None else []
    for volume, path in mounts.items():
        argv += ["-v", f"{volume}:{path}"]
    argv += [helper_image(client), *command]
    try:
        done = subprocess.run(
            argv,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except FileNotFoundError:
        raise EngineUnreachable(f"{action} failed: the docker CLI is not installed") from None
    if done.returncode != 0:
        errors = done.stderr.decode(errors="replace").strip()
        last = errors.splitlines()[-1] if errors else f"exit {done.returncode}"
        problem = f"{action} failed: {last}"
        if engine_unreachable(errors):
            raise EngineUnreachable(problem)
        cause = "make room: a disk or volume is full" if NO_SPACE in errors else "fix what it names"
        raise EngineError(problem, f"{cause}; {kept}")
    return "" if stdout is not None else done.stdout.decode(errors="replace")


@contextmanager
def paused(client: DockerClient, volume: str) -> Iterator[list[str]]:
    """Freeze the running containers that use `volume` for the duration; yields their names.

    Each is paused on its own inside the try, so when one cannot be paused (or the copy fails
    or is interrupted) every container paused so far is resumed: nothing stays frozen.
    """
    writers = running_users(client, volume)
    frozen: list[str] = []
    try:
        for name in writers:
            with engine_errors(
                f"pausing {name}", f"unpause or stop {name} and run the backup again"
            ):
                client.container.pause(name)
            frozen.append(name)
        yield writers
    finally:
        if frozen:
            with engine_errors(f"resuming {', '.join(frozen)}"):
                client.container.unpause(frozen)


def _archive(client: DockerClient, volume: str, path: Path) -> None:
    with private_file(path) as handle:
        run_helper(
            client,
            {volume: "/volume:ro"},
            [*TAR, "-C", "/volume", "-cpf", "-", "."],
            f"archiving volume {volume}",
            "the volume and any earlier backup are untouched",
            stdout=handle,
        )


def backup(client: DockerClient, names: list[str], destination: Path) -> dict[str, Any]:
    """One tar archive per existing volume plus a manifest of SHA-256 checksums.

    A volume a running container uses is copied while its writers are paused, so the archive is
    one consistent moment (crash-consistent, as a database recovers from a power cut); the
    manifest records the method. The backup is written into a new private folder (0700, files
    0600) beside `destination` and renamed to it when complete, replacing an earlier backup
    there only then: a failed or interrupted backup never touches a good one. A destination
    that holds anything but a backup is refused.
    """
    check_destination(destination)
    manifest: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "volumes": {},
    }
    with building(destination) as work:
        for info in describe(client, names):
            if not info.exists:
                continue
            archive = archive_name(info.name)
            with paused(client, info.name) as writers:
                _archive(client, info.name, work / archive)
            path = work / archive
            manifest["volumes"][info.name] = {
                "archive": archive,
                "sha256": sha256_of(path),
                "bytes": path.stat().st_size,
                "in_use_by": list(info.used_by),
                "method": f"copied while {', '.join(writers)} paused"
                if writers
                else "copied at rest",
            }
        write_atomic(work / MANIFEST, json.dumps(manifest, indent=2) + "\n", private=True)
    return manifest


def volume_files(client: DockerClient, volume: str) -> list[tuple[str, bytes]]:
    """Name and content of every regular file at the top of a named volume, read as root by a
    throwaway helper container (the files may belong to other users); an `EngineError` when the
    volume does not exist."""
    if not describe(client, [volume])[0].exists:
        raise EngineError(
            f"volume {volume} does not exist",
            "it is made when the stack starts or an MCP server first runs (`invoke stack.up`)",
        )
    with tempfile.TemporaryFile() as archive:
        run_helper(
            client,
            {volume: "/volume:ro"},
            [*TAR, "-C", "/volume", "-cf", "-", "."],
            f"reading volume {volume}",
            "the volume is untouched",
            stdout=archive,
        )
        archive.seek(0)
        found = []
        with tarfile.open(fileobj=archive, mode="r|") as members:
            for member in members:
                name = member.name.removeprefix("./")
                handle = members.extractfile(member) if member.isfile() else None
                if handle is not None and "/" not in name:
                    found.append((name, handle.read()))
    return found
