"""The launcher's guards on the real engine, started by a user who cannot write the workspace
(uid 1000 in a dev container, on a checkout root owns): a guarded folder that does not exist
and that this user cannot make still cannot be made or written by the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import REPO

pytestmark = pytest.mark.integration

RUNTIME = ".devcontainer/mcp/runtime"
IMAGE = "mcp-offline/debian:trixie"
USER = 1000
# Debian's interpreter: one that uid 1000 may run wherever the tests' own lives.
PYTHON = "/usr/bin/python3"


@pytest.fixture
def root_owned() -> Iterator[Path]:
    """A workspace root owns (others may read it) with the launcher and a `.git` that has no
    hooks folder, as some checkouts come."""
    folder = Path(tempfile.mkdtemp(prefix="guards-"))
    folder.chmod(0o755)
    shutil.copytree(REPO / RUNTIME, folder / RUNTIME, ignore=shutil.ignore_patterns(".mask*"))
    (folder / ".git").mkdir()
    yield folder
    shutil.rmtree(folder)


def test_a_missing_guarded_folder_stays_unwritable_for_a_user_who_cannot_make_it(
    seeded: None, root_owned: Path
) -> None:
    socket_group = os.stat("/var/run/docker.sock").st_gid
    home = tempfile.mkdtemp(prefix="guards-home-")
    os.chown(home, USER, USER)
    as_user = ["setpriv", f"--reuid={USER}", f"--regid={USER}", f"--groups={socket_group}"]
    launcher = str(root_owned / RUNTIME / "mcp_launch.py")
    command = [
        *as_user, PYTHON, launcher, "--workspace", "/w", "--guard", ".git/hooks/",
        "run", "--rm", "--label", f"test.guards={os.getpid()}", "--network", "none", IMAGE,
        "sh", "-c", "ls -A /w/.git/hooks; touch /w/.git/hooks/post-commit",
    ]  # fmt: skip
    try:
        ran = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home},
        )
    finally:
        shutil.rmtree(home)
    assert "Permission denied" not in ran.stderr, ran.stderr
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stdout == "" and "Read-only file system" in ran.stderr, ran.stderr
    assert not (root_owned / ".git/hooks/post-commit").exists()
