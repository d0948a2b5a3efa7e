#!/usr/bin/env python3
"""Starts one MCP stdio server the way every client config of this repository does:

    python3 mcp_launch.py [OPTIONS] run -i --rm ... IMAGE [ARGS...]

It adds to the `docker run` arguments what only the client's machine knows at launch time, then
replaces itself with `docker` (nothing stays between the client and the server):

- a session label and `MCP_SESSION`, unique to this launch (`invoke mcp.clean` and the audit
  log tell sessions apart by it);
- with `--workspace TARGET[:ro]`: the workspace folder mounted at TARGET, and every path that
  `.mcpignore` names masked (a file by an unreadable empty file, a folder by an unreadable
  empty folder, both created next to this script);
- with `--as-owner`: the server runs as the user and group that own the workspace, so what it
  writes (a git commit) belongs to the workspace's owner (USER is the client's user name);
- with `--guard PATH` (repeatable): PATH inside a writable workspace is mounted read-only (git
  hooks, editor and container settings: files that run code on the owner's machine);
- with `--git-identity`: the client's git author name and e-mail, passed by variable name.

The workspace is the folder this script's repository lives in, as this machine sees it; the
Docker engine may see it under another path (a dev container talking to the host's engine), given
by `--source` or LOCAL_WORKSPACE_FOLDER. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import mcpignore  # noqa: E402

WORKSPACE = HERE.parents[2]
SESSION_LABEL = "dev.mcp-cluster.session"
# A session id or origin given by the caller (they name files and labels).
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MASK_FILE = ".mask"
MASK_FOLDER = ".mask.d"
# The launcher's options that take a value.
VALUED = ("--workspace", "--source", "--guard")
IDENTITY = {
    "user.name": ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"),
    "user.email": ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"),
}


class LaunchError(Exception):
    """The server cannot be started safely; the message says why and what to do."""


@dataclass
class Launch:
    """What the launcher adds to `docker run`, and the environment `docker` runs with."""

    options: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def mount(kind: str, source: str | None, target: str, read_only: bool) -> list[str]:
    """A `--mount` option; fields with a comma or quote are CSV-quoted as docker reads them."""
    fields = [f"type={kind}"]
    if source is not None:
        fields.append(f"source={source}")
    fields.append(f"target={target}")
    if read_only:
        fields.append("readonly")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return ["--mount", buffer.getvalue()]


def join(base: str, rel: str) -> str:
    """`rel` (POSIX) under a path as the engine sees it."""
    return base.rstrip("/\\") + "/" + rel if rel else base


def mask_sources(source: str) -> tuple[str, str] | None:
    """The unreadable empty file and folder that stand in for masked paths, made next to this
    script (mode 000); their paths as the engine sees them, or None when they cannot be had."""
    file, folder = HERE / MASK_FILE, HERE / MASK_FOLDER
    if file.is_symlink() or folder.is_symlink():
        return None
    try:
        if not file.exists():
            file.touch(mode=0)
        if not folder.exists():
            folder.mkdir(mode=0)
        for path in (file, folder):
            if path.stat().st_mode & 0o7777:
                path.chmod(0)
    except OSError:
        return None
    if not file.is_file() or not folder.is_dir() or file.stat().st_size:
        return None
    rel = HERE.relative_to(WORKSPACE).as_posix()
    return join(source, f"{rel}/{MASK_FILE}"), join(source, f"{rel}/{MASK_FOLDER}")


def mask_options(source: str, target: str, patterns: list[mcpignore.Pattern]) -> list[str]:
    """Mounts that hide every path `.mcpignore` matches under the workspace mount."""
    found = sorted(mcpignore.matches(WORKSPACE, patterns), key=lambda m: m.rel)
    if not found:
        return []
    stand_ins = mask_sources(source)
    options: list[str] = []
    for match in found:
        where = join(target, match.rel)
        if stand_ins is None:
            options += (
                mount("tmpfs", None, where, True)
                if match.is_folder
                else mount("bind", "/dev/null", where, True)
            )
        else:
            stand_in = stand_ins[1] if match.is_folder else stand_ins[0]
            options += mount("bind", stand_in, where, True)
    return options


def guard_options(source: str, target: str, guards: list[str]) -> list[str]:
    """Read-only mounts over the guarded paths of a writable workspace. A guarded folder that
    does not exist yet is made (empty) so that the server cannot create it either; where this
    user cannot make it (a workspace someone else owns), an empty read-only tmpfs stands in."""
    options: list[str] = []
    for guard in guards:
        rel = guard.strip("/")
        if not rel or ".." in rel.split("/"):
            raise LaunchError(f"--guard {guard!r}: give a path inside the workspace")
        path = WORKSPACE / rel
        if not path.exists() and guard.endswith("/") and path.parent.is_dir():
            try:
                path.mkdir()
            except OSError:
                options += mount("tmpfs", None, join(target, rel), True)
                continue
        if path.exists() and not path.is_symlink():
            options += mount("bind", join(source, rel), join(target, rel), True)
    return options


def git_identity() -> dict[str, str]:
    """The client's git author name and e-mail (as `git config` resolves them in the
    workspace), by the variables git reads; nothing when git or the setting is missing."""
    env: dict[str, str] = {}
    for key, names in IDENTITY.items():
        try:
            value = subprocess.run(
                ["git", "-C", str(WORKSPACE), "config", "--get", key],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return {}
        if value:
            env.update(dict.fromkeys(names, value))
    return env


def plan(arguments: argparse.Namespace, environ: dict[str, str]) -> Launch:
    """The options and environment this launch adds."""
    session = environ.get("MCP_SESSION", "")
    if not SAFE.fullmatch(session):
        session = os.urandom(6).hex()
    launch = Launch(["--label", f"{SESSION_LABEL}={session}", "-e", "MCP_SESSION"])
    launch.env["MCP_SESSION"] = session
    if SAFE.fullmatch(environ.get("MCP_ORIGIN", "")):
        launch.options += ["-e", "MCP_ORIGIN"]
    if arguments.workspace:
        target, _, mode = arguments.workspace.partition(":")
        if not target.startswith("/") or mode not in ("", "ro"):
            raise LaunchError(f"--workspace {arguments.workspace!r}: write /PATH or /PATH:ro")
        source = arguments.source or environ.get("LOCAL_WORKSPACE_FOLDER") or str(WORKSPACE)
        read_only = mode == "ro"
        launch.options += mount("bind", source, target, read_only)
        patterns = mcpignore.read(WORKSPACE)
        guards = list(arguments.guard) + ([mcpignore.FILE_NAME] if patterns else [])
        if not read_only:
            launch.options += guard_options(source, target, guards)
        launch.options += mask_options(source, target, patterns)
    if arguments.as_owner:
        owner = WORKSPACE.stat()
        launch.options += ["--user", f"{owner.st_uid}:{owner.st_gid}", "-e", "HOME=/tmp"]
        # The owner's uid may be unknown to the image: tools that ask for a user name (git's
        # default author) get the client's.
        launch.options += ["-e", "USER"]
        launch.env["USER"] = environ.get("USER") or getpass.getuser()
    if arguments.git_identity:
        identity = git_identity()
        for name in sorted(identity):
            launch.options += ["-e", name]
        launch.env.update(identity)
    return launch


def parser() -> argparse.ArgumentParser:
    """The launcher's own options; from the word `run` on, the arguments are `docker run`'s."""
    made = argparse.ArgumentParser(
        prog="mcp_launch.py", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    made.add_argument("--workspace", help="mount the workspace at TARGET (:ro for read-only)")
    made.add_argument("--source", help="the workspace as the Docker engine sees it")
    made.add_argument("--as-owner", action="store_true", help="run as the workspace's owner")
    made.add_argument("--guard", action="append", default=[], help="read-only path inside")
    made.add_argument("--git-identity", action="store_true", help="pass the git author")
    return made


def main(argv: list[str]) -> int:
    """Parse, plan, and exec `docker run` (returns only on error)."""
    index = 0
    while index < len(argv) and argv[index] != "run":
        index += 2 if argv[index] in VALUED else 1
    arguments = parser().parse_args(argv[:index])
    docker = argv[index:]
    if not docker:
        print("mcp_launch.py: expected OPTIONS run ... IMAGE [ARGS...]", file=sys.stderr)
        return 2
    try:
        launch = plan(arguments, dict(os.environ))
    except (LaunchError, OSError) as error:
        print(f"mcp_launch.py: {error}", file=sys.stderr)
        return 1
    env = {**os.environ, **launch.env}
    command = ["docker", "run", *launch.options, *docker[1:]]
    try:
        os.execvpe("docker", command, env)
    except OSError as error:
        print(f"mcp_launch.py: cannot run docker: {error}", file=sys.stderr)
        return 1
    return 1  # pragma: no cover (exec does not return)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
