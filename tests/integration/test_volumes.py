"""Volume backup and restore on the real engine: byte-identical, verified, never clobbering."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import invoke, invoke_json

pytestmark = pytest.mark.integration
HELPER = "mcp-offline/debian:trixie"


def _in_volume(volume: str, script: str) -> str:
    return subprocess.run(
        ["docker", "run", "--rm", "-v", f"{volume}:/v", HELPER, "sh", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _digest(volume: str) -> str:
    return _in_volume(
        volume,
        "cd /v && find . -type f -print0 | sort -z | xargs -0 sha256sum; "
        "find . -printf '%p %m %U\\n' | sort",
    )


@pytest.fixture
def volume(seeded: None) -> Iterator[str]:
    """A named volume with files, permissions and a binary blob."""
    name = f"mcp-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(["docker", "volume", "create", name], capture_output=True, check=True)
    _in_volume(
        name,
        "mkdir -p /v/db && echo rows > /v/db/table && chmod 640 /v/db/table "
        "&& head -c 65536 /dev/urandom > /v/blob && chown 999 /v/blob",
    )
    yield name
    subprocess.run(["docker", "volume", "rm", "-f", name], capture_output=True, check=False)


def test_backup_delete_restore_is_byte_identical(volume: str, tmp_path: Path) -> None:
    before = _digest(volume)
    code, data = invoke_json("volumes.backup", "--volume", volume, "--dest", str(tmp_path))
    assert code == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["volumes"][volume]["sha256"] == data["volumes"][volume]["sha256"]
    subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=True)
    result = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume)
    assert result.returncode == 0, result.stderr
    assert _digest(volume) == before


def test_restore_refuses_non_empty_volume_without_force(volume: str, tmp_path: Path) -> None:
    assert invoke("volumes.backup", "--volume", volume, "--dest", str(tmp_path)).returncode == 0
    _in_volume(volume, "echo newer > /v/db/table")
    changed = _digest(volume)
    refused = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume)
    assert (
        refused.returncode == 1 and "is not empty" in refused.stderr and "--force" in refused.stderr
    )
    assert _digest(volume) == changed
    forced = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume, "--force")
    assert forced.returncode == 0
    assert _in_volume(volume, "cat /v/db/table").strip() == "rows"


def test_corrupt_archive_is_refused_before_anything_changes(volume: str, tmp_path: Path) -> None:
    assert invoke("volumes.backup", "--volume", volume, "--dest", str(tmp_path)).returncode == 0
    archive = tmp_path / f"{volume}.tar"
    archive.write_bytes(archive.read_bytes()[:-10] + b"0123456789")
    before = _digest(volume)
    result = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume, "--force")
    assert result.returncode == 1 and "checksum differs" in result.stderr
    assert _digest(volume) == before


def test_backup_of_a_volume_being_written_is_consistent(volume: str, tmp_path: Path) -> None:
    """A writer appends numbered, checksummed records without pause; the backup pauses it,
    the restored copy holds only whole records, and the writer carries on afterwards."""
    writer = f"mcp-test-writer-{uuid.uuid4().hex[:8]}"
    script = (
        "i=0; while true; do i=$((i+1)); "
        'line="$i $(head -c 3000 /dev/urandom | od -An -tx1 | tr -d " \\n")"; '
        'echo "$line $(printf %s "$line" | sha256sum | cut -c1-16)" >> /v/log; done'
    )
    subprocess.run(
        ["docker", "run", "-d", "--name", writer, "-v", f"{volume}:/v", HELPER, "sh", "-c", script],
        capture_output=True,
        check=True,
    )
    try:
        code, data = invoke_json("volumes.backup", "--volume", volume, "--dest", str(tmp_path))
        assert code == 0, data
        assert data["volumes"][volume]["method"] == f"copied while {writer} paused"
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Status}}", writer],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert state == "running"
    finally:
        subprocess.run(["docker", "rm", "-f", writer], capture_output=True, check=False)
    subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=True)
    result = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume)
    assert result.returncode == 0, result.stderr
    check = (
        'n=0; while read -r i data sum; do n=$((n+1)); [ "$i" = "$n" ] || exit 3; '
        '[ "$(printf "%s %s" "$i" "$data" | sha256sum | cut -c1-16)" = "$sum" ] || exit 4; '
        "done < /v/log; echo $n"
    )
    records = int(_in_volume(volume, check).strip())
    assert records > 0


def test_an_interrupted_backup_is_never_restored(volume: str, tmp_path: Path) -> None:
    """An archive without its manifest entry (a backup cut short) is refused by restore."""
    code, _ = invoke_json("volumes.backup", "--volume", volume, "--dest", str(tmp_path))
    assert code == 0
    (tmp_path / "manifest.json").unlink()
    (tmp_path / f"{volume}.tar.partial").write_bytes(b"half an archive")
    result = invoke("volumes.restore", "--src", str(tmp_path), "--volume", volume)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "manifest" in result.stderr + result.stdout
