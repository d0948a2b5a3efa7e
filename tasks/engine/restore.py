"""Restore named volumes from a backup folder so that a volume holds either its old data or
the restored data, never neither and never a mix.

Docker cannot rename a volume, so the swap happens inside the target volume:

1. Every check comes first, for every volume asked for, before anything changes: the manifest
   (names, `<volume>.tar` only), each archive's SHA-256, and each volume's state. A volume
   that holds data is replaced only with `force`; one a running container uses only with
   `stop` (those containers are stopped for the restore and started again after it, also
   when it fails).
2. The archive is extracted into a new staging volume and compared with the archive
   (`tar --diff`: contents, sizes, modes, owners, times, link targets). A failure here leaves
   the target untouched.
3. In the target, the old top-level entries are moved (renamed, so no data is copied and no
   space is needed) into a folder `.restore-moving-<id>`, renamed `.restore-old-<id>` once all
   are in; then the staging volume is copied in (`cp -a`), and the target is compared with the
   archive again. If the copy or the comparison fails, everything but that folder is removed
   and the old entries are moved back, with the volume's own owner and mode.
4. When the target matches the archive, the folder is renamed `.restore-done-<id>` and
   removed, and the staging volume is removed.

The folder's name records how far a restore got, so a restore cut short (the host went down)
is finished safely by the next one: `moving` means the old entries only need moving back,
`old` that the partial copy is removed first, `done` that the restored data is complete and the
folder is deleted. The target needs room for both the old and the new data during the swap;
the staging volume is a plain local volume on the engine's disk.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException, NoSuchVolume

from tasks.engine.client import engine_errors
from tasks.engine.restoreplan import (
    ASIDE,
    RestorePlan,
    VolumeState,
    plan_restore,
    verified_archives,
)
from tasks.engine.volumes import TAR, run_helper, running_users
from tasks.errors import EngineError

STAGING_LABEL = "dev.mcp-cluster.restore-of"

# Runs in the helper with the target at /target and the staging volume at /staging:
# `sh -c SWAP sh MODE ID`. MODE: swap, rollback (after a failed comparison), commit, or
# recover-moving / recover-old / recover-done (a restore cut short). Its last line on stderr
# says what happened; exit 0 on success.
SWAP = r"""
set -u
mode=$1 id=$2
moving=/target/.restore-moving-$id old=/target/.restore-old-$id done=/target/.restore-done-$id
back() {  # the old entries from folder $1 back at the top, with the volume's owner and mode
  chown --reference="$1" /target && chmod --reference="$1" /target &&
  find "$1" -mindepth 1 -maxdepth 1 -exec mv -t /target -- {} + && rmdir "$1"
}
drop_new() {  # remove every top-level entry but the folder $1
  find /target -mindepth 1 -maxdepth 1 ! -path "$1" -exec rm -rf -- {} +
}
stuck() { echo "the old data is kept in $1 inside the volume; run the restore again" >&2; exit 4; }
case $mode in
swap)
  if ! { mkdir "$moving" && chown --reference=/target "$moving" &&
         chmod --reference=/target "$moving"; }; then
    rmdir "$moving" 2>/dev/null; echo "could not make room to set the old data aside" >&2; exit 3
  fi
  if ! find /target -mindepth 1 -maxdepth 1 ! -path "$moving" -exec mv -t "$moving" -- {} +; then
    back "$moving" || stuck "$moving"
    echo "could not set the old data aside; it is back in place" >&2; exit 3
  fi
  mv "$moving" "$old" || stuck "$moving"
  if ! cp -a /staging/. /target/; then
    drop_new "$old" && back "$old" || stuck "$old"
    echo "could not copy the restored data in; the volume's old data is back in place" >&2; exit 3
  fi ;;
rollback|recover-old) { drop_new "$old" && back "$old"; } || stuck "$old" ;;
recover-moving) back "$moving" || stuck "$moving" ;;
commit) mv "$old" "$done" && rm -rf -- "$done" && touch -r /staging /target ;;
recover-done) rm -rf -- "$done" ;;
esac
"""


def probe(client: DockerClient, name: str) -> VolumeState:
    """Existence, emptiness, running users and leftover restore folders of a volume."""
    users = tuple(running_users(client, name))
    with engine_errors(f"inspecting volume {name}"):
        try:
            client.volume.inspect(name)
        except NoSuchVolume:
            return VolumeState(name, False, True, users)
    listing = run_helper(
        client,
        {name: "/volume:ro"},
        ["find", "/volume", "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\0"],
        f"reading volume {name}",
        "nothing was changed",
    )
    entries = [entry for entry in listing.split("\0") if entry]
    leftovers = tuple(sorted(e for e in entries if ASIDE.match(e)))
    return VolumeState(name, True, not entries, users, leftovers)


def restore(
    client: DockerClient, source: Path, names: list[str], force: bool, stop: bool
) -> list[str]:
    """Restore verified archives into their volumes (see the module's description); returns
    the volumes restored. Every volume is checked before the first one changes."""
    archives = verified_archives(source, names)
    plans = [plan_restore(probe(client, n), a, force, stop) for n, a in archives.items()]
    for plan in plans:
        with stopped(client, plan.stop):
            _restore_one(client, plan)
    return [plan.volume for plan in plans]


@contextmanager
def stopped(client: DockerClient, names: tuple[str, ...]) -> Iterator[None]:
    """Stop the containers `names` for the duration and start them again after, also when the
    block fails (a failure to start them is reported beside the block's own failure)."""
    if not names:
        yield
        return
    listed = ", ".join(names)
    with engine_errors(f"stopping {listed}"):
        client.container.stop(list(names))
    try:
        yield
    except EngineError as failure:
        _start(client, names, failure)
        raise
    except BaseException:
        _start(client, names, None)
        raise
    _start(client, names, None)


def _start(client: DockerClient, names: tuple[str, ...], failure: EngineError | None) -> None:
    try:
        with engine_errors(
            f"starting {', '.join(names)} again", "start them with `docker start NAME`"
        ):
            client.container.start(list(names))
    except EngineError as error:
        if failure is None:
            raise
        raise EngineError(
            f"{failure.problem}; then {error.problem}", f"{failure.fix}; {error.fix}"
        ) from None


def _swap(client: DockerClient, plan: RestorePlan, staging: str, mode: str, ident: str) -> None:
    kept = (
        f"volume {plan.volume} holds the restored data; run the restore again to tidy up"
        if mode == "commit"
        else f"volume {plan.volume} keeps its old data"
    )
    run_helper(
        client,
        {plan.volume: "/target", staging: "/staging:ro"},
        ["sh", "-c", SWAP, "sh", mode, ident],
        f"restoring volume {plan.volume} ({mode})",
        kept,
    )


def _compare(client: DockerClient, plan: RestorePlan, volume: str, kept: str) -> None:
    with plan.archive.open("rb") as archive:
        run_helper(
            client,
            {volume: "/volume:ro"},
            [*TAR, "-C", "/volume", "--diff", "-f", "-"],
            f"comparing volume {volume} with {plan.archive.name}",
            kept,
            stdin=archive,
        )


def _restore_one(client: DockerClient, plan: RestorePlan) -> None:
    name = plan.volume
    if plan.create:
        with engine_errors(f"creating volume {name}"):
            client.volume.create(name)
    staging = f"mcp-restore-{secrets.token_hex(6)}"
    with engine_errors(f"creating staging volume {staging}"):
        client.volume.create(staging, labels={STAGING_LABEL: name})
    try:
        _through(client, plan, staging)
    except BaseException:
        # The restore's own failure is the one to report; a volume it created goes again.
        with suppress(DockerException):
            client.volume.remove([staging, name] if plan.create else [staging])
        raise
    with engine_errors(f"removing staging volume {staging}"):
        client.volume.remove(staging)


def _through(client: DockerClient, plan: RestorePlan, staging: str) -> None:
    """Finish a restore cut short, extract into `staging`, compare, swap, compare, commit."""
    name = plan.volume
    if plan.recover:
        stage, ident = plan.recover.split("-")[1], plan.recover.rsplit("-", 1)[1]
        _swap(client, plan, staging, f"recover-{stage}", ident)
    untouched = f"volume {name} is untouched"
    with plan.archive.open("rb") as archive:
        run_helper(
            client,
            {staging: "/volume"},
            [*TAR, "-C", "/volume", "-xpf", "-"],
            f"extracting {plan.archive.name} into a staging volume",
            untouched,
            stdin=archive,
        )
    _compare(client, plan, staging, untouched)
    ident = secrets.token_hex(6)
    _swap(client, plan, staging, "swap", ident)
    try:
        _compare(client, plan, name, f"volume {name} keeps its old data")
    except EngineError:
        _swap(client, plan, staging, "rollback", ident)
        raise
    _swap(client, plan, staging, "commit", ident)
