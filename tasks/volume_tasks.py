"""`invoke volumes.*`: list, back up and restore the stack's named volumes."""

from __future__ import annotations

import time
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.markup import escape
from rich.table import Table

from tasks.engine.client import EngineError, docker_client
from tasks.engine.volumes import backup, describe, restore
from tasks.model.stack import Stack, load_stack
from tasks.report import EXIT_FINDINGS, REPO_ROOT, bad_input_exits, console, emit_json, errors


def stack_volumes(stack: Stack) -> list[str]:
    """Names of the compose file's volumes (the memory server's included)."""
    return sorted(volume.name for volume in stack.compose.volumes.values() if not volume.external)


def _names(volume: list[str]) -> list[str]:
    with bad_input_exits(False):
        return volume or stack_volumes(load_stack(REPO_ROOT))


def _fail(error: EngineError) -> Exit:
    errors.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
    return Exit(code=EXIT_FINDINGS)


@task(name="list", help={"json": "print JSON"})
def volumes_list(c: Context, json: bool = False) -> None:
    """List the stack's named volumes: present or not, and the containers using them."""
    try:
        infos = describe(docker_client(), _names([]))
    except EngineError as error:
        raise _fail(error) from None
    if json:
        emit_json({"volumes": [i.__dict__ for i in infos]})
        return
    table = Table(title="volumes", title_justify="left")
    for column in ("volume", "exists", "used by"):
        table.add_column(column)
    for info in infos:
        table.add_row(info.name, "yes" if info.exists else "no", ", ".join(info.used_by))
    console.print(table)


@task(
    name="backup",
    iterable=["volume"],
    help={
        "dest": "folder for the archives (default: backups/<UTC time>)",
        "volume": "only this volume (repeatable)",
        "json": "print JSON",
    },
)
def volumes_backup(
    c: Context, dest: str = "", volume: list[str] | None = None, json: bool = False
) -> None:
    """Archive each named volume (tar) and write a SHA-256 manifest beside the archives.

    Stop writers first (invoke stack.down) for a consistent copy of a database.
    """
    target = (
        Path(dest)
        if dest
        else REPO_ROOT / "backups" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    )
    try:
        manifest = backup(docker_client(), _names(volume or []), target.resolve())
    except EngineError as error:
        raise _fail(error) from None
    if json:
        emit_json({"dest": str(target), **manifest})
        return
    for name, entry in manifest["volumes"].items():
        busy = f" (in use by {', '.join(entry['in_use_by'])})" if entry["in_use_by"] else ""
        console.print(f"{name}: {entry['bytes'] / 1e6:.1f} MB sha256 {entry['sha256'][:12]}{busy}")
    console.print(f"backup written to {target}")


@task(
    name="restore",
    iterable=["volume"],
    help={
        "src": "folder made by volumes.backup",
        "volume": "only this volume (repeatable)",
        "force": "replace volumes that already hold data",
    },
)
def volumes_restore(
    c: Context, src: str, volume: list[str] | None = None, force: bool = False
) -> None:
    """Restore volumes from a backup after checking every archive's checksum.

    A volume that already holds data is replaced only with --force.
    """
    try:
        restored = restore(docker_client(), Path(src), volume or [], force)
    except EngineError as error:
        raise _fail(error) from None
    console.print(f"restored {', '.join(restored)} from {src}")
