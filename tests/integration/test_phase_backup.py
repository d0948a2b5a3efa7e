"""Phase 6 on a repository whose old stack is running: the volumes of the services it rewrites
are archived first, on the real engine."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import invoke
from tests.legacy_fixture import build_legacy_repo, git

pytestmark = pytest.mark.integration
HELPER = "mcp-offline/debian:trixie"


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def running_legacy(tmp_path: Path, seeded: None) -> Iterator[tuple[Path, str]]:
    """A legacy repo (compose project `phase-test-*`) whose memory service runs with data."""
    tag = uuid.uuid4().hex[:8]
    project, volume = f"phase-test-{tag}", f"phase-test-memory-{tag}"
    root = build_legacy_repo(tmp_path / "repo")
    compose = root / ".devcontainer/docker-compose.mcp.yml"
    text = compose.read_text().replace("  memory-data:\n", f"  memory-data:\n    name: {volume}\n")
    compose.write_text(f"name: {project}\n{text}")
    git(root, "commit", "--quiet", "-am", "name the project")
    container = f"phase-test-{tag}"
    try:
        assert _docker("volume", "create", volume).returncode == 0
        started = _docker(
            "run",
            "-d",
            "--name",
            container,
            "--label",
            f"com.docker.compose.project={project}",
            "-v",
            f"{volume}:/memory",
            HELPER,
            "sh",
            "-c",
            'echo \'{"entity": "kept"}\' > /memory/memory.jsonl && sleep 600',
        )
        assert started.returncode == 0, started.stderr
        yield root, volume
    finally:
        _docker("rm", "-f", container)
        _docker("volume", "rm", "-f", volume)


def test_phase_6_backs_up_the_volumes_of_running_services(
    running_legacy: tuple[Path, str],
) -> None:
    root, volume = running_legacy
    for number in range(1, 6):
        assert invoke("phase", str(number), "--commit", "--root", str(root)).returncode == 0
    result = invoke("phase", "6", "--commit", "--root", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backed up the volumes" in result.stdout
    [folder] = (root / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert list(manifest["volumes"]) == [volume]
    assert (folder / f"{volume}.tar").stat().st_size > 0
    assert "backups/" not in git(root, "show", "--name-only", "HEAD")


def test_phase_6_stops_when_the_backup_fails(running_legacy: tuple[Path, str]) -> None:
    """The service that owns the volume is paused by someone else, so it cannot be frozen for
    the copy: phase 6 stops before it changes anything, and says why."""
    root, volume = running_legacy
    for number in range(1, 6):
        assert invoke("phase", str(number), "--commit", "--root", str(root)).returncode == 0
    compose = root / ".devcontainer/docker-compose.mcp.yml"
    before, head = compose.read_bytes(), git(root, "rev-parse", "HEAD")
    [container] = _docker("ps", "-q", "--filter", f"volume={volume}").stdout.split()
    assert _docker("pause", container).returncode == 0
    result = invoke("phase", "6", "--commit", "--root", str(root))
    message = " ".join(result.stderr.split())
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"backing up {volume} before the phase rewrites their services failed" in message
    assert "the phase changed nothing" in message and "Traceback" not in message
    assert compose.read_bytes() == before and git(root, "rev-parse", "HEAD") == head
    backups = root / "backups"
    assert not backups.exists() or list(backups.iterdir()) == []  # no partial folder either
    assert _docker("unpause", container).returncode == 0
    again = invoke("phase", "6", "--commit", "--root", str(root))
    assert again.returncode == 0 and "resuming" not in again.stdout, again.stdout + again.stderr
