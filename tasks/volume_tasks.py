"""`invoke volumes.*`: list, back up and restore the stack's named volumes."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.helpflag import show_help_if_asked
from tasks.outcome import Outcome


@task(name="list", help={"json": "print JSON"})
def volumes_list(c: Context, json: bool = False) -> None:
    """List the stack's named volumes: present or not, and the containers using them."""
    from tasks.engine.client import docker_client
    from tasks.engine.volumes import describe
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT

    infos = describe(docker_client(), load_stack(REPO_ROOT).compose.volume_names())
    rows = [(i.name, "yes" if i.exists else "no", ", ".join(i.used_by)) for i in infos]
    view = table("volumes", ("volume", "exists", "used by"), rows)
    present(Outcome({"volumes": [i.__dict__ for i in infos]}, [view]), json)


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

    Containers using a volume are paused while it is copied (one consistent moment) and
    resumed after; the manifest records how each volume was copied. The backup is private
    (folder 0700, files 0600) and is written under a hidden name, renamed to --dest when
    complete: a failed backup never replaces an earlier one there.
    """
    from tasks.workflows.volumes import backup

    present(backup(dest, volume or []), json)


@task(
    name="restore",
    iterable=["volume"],
    help={
        "src": "folder made by volumes.backup",
        "volume": "only this volume (repeatable)",
        "force": "replace volumes that already hold data",
        "stop": "stop the running containers that use a volume for its restore, then start them",
        "json": "print JSON",
    },
)
def volumes_restore(
    c: Context,
    src: str,
    volume: list[str] | None = None,
    force: bool = False,
    stop: bool = False,
    json: bool = False,
) -> None:
    """Restore volumes from a backup after checking every archive's checksum.

    Each archive is extracted into a staging volume and compared with the archive before the
    volume changes; the old data is set aside inside the volume and put back if anything
    fails, so a volume holds its old data or the restored data, never neither. A volume that
    holds data is replaced only with --force; one a running container uses only with --stop.
    """
    from tasks.workflows.volumes import restore

    show_help_if_asked(src, "volumes.restore")
    present(restore(src, volume or [], force, stop), json)
