"""Volume backup and restore on the real engine: byte-identical, verified, private, never
clobbering: a failed restore keeps the old data, a failed backup keeps the earlier one."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
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


def _docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)


def _staging_volumes(volume: str) -> list[str]:
    return _docker(
        "volume", "ls", "-q", "--filter", f"label=dev.mcp-cluster.restore-of={volume}"
    ).stdout.split()


def test_backup_delete_restore_is_byte_identical(volume: str, tmp_path: Path) -> None:
    before = _digest(volume)
    dest = tmp_path / "backup"
    code, data = invoke_json("volumes.backup", "--volume", volume, "--dest", str(dest))
    assert code == 0
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["volumes"][volume]["sha256"] == data["volumes"][volume]["sha256"]
    subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=True)
    result = invoke("volumes.restore", "--src", str(dest), "--volume", volume)
    assert result.returncode == 0, result.stderr
    assert _digest(volume) == before
    _in_volume(volume, "rm -r /v/db && echo other > /v/blob && chmod 777 /v")
    replaced = invoke("volumes.restore", "--src", str(dest), "--volume", volume, "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert _digest(volume) == before  # the volume's own mode included, no folder left over
    assert _staging_volumes(volume) == []


def test_backups_are_private(volume: str, tmp_path: Path) -> None:
    """The archives hold password hashes and keys: the folder is 0700, every file 0600."""
    dest = tmp_path / "backup"
    assert invoke("volumes.backup", "--volume", volume, "--dest", str(dest)).returncode == 0
    assert stat.S_IMODE(dest.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()}
    assert modes == {"manifest.json": 0o600, f"{volume}.tar": 0o600}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"]


def test_a_backup_never_replaces_what_is_not_a_backup(volume: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke("volumes.backup", "--volume", volume, "--dest", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert f"{tmp_path}: is not a backup folder (it holds notes.txt)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    bad = invoke("volumes.backup", "--volume", "a;b", "--dest", str(tmp_path / "b"))
    assert bad.returncode == 2 and "'a;b' is not a volume name" in bad.stderr


@pytest.fixture
def paused_writer(volume: str) -> Iterator[tuple[str, str, str]]:
    """A second volume used by two containers: `a-*` running, `b-*` paused by its owner."""
    tag = uuid.uuid4().hex[:8]
    other, running, paused = f"mcp-test-{tag}", f"mcp-test-a-{tag}", f"mcp-test-b-{tag}"
    try:
        assert _docker("volume", "create", other).returncode == 0
        _in_volume(other, "echo data > /v/f")
        for name in (running, paused):
            started = _docker(
                "run", "-d", "--name", name, "-v", f"{other}:/v", HELPER, "sleep", "600"
            )
            assert started.returncode == 0, started.stderr
        assert _docker("pause", paused).returncode == 0
        yield other, running, paused
    finally:
        _docker("rm", "-f", running, paused)
        _docker("volume", "rm", "-f", other)


def test_a_failed_backup_keeps_the_earlier_one_and_leaves_nothing_frozen(
    volume: str, paused_writer: tuple[str, str, str], tmp_path: Path
) -> None:
    other, running, paused = paused_writer
    dest = tmp_path / "backup"
    assert invoke("volumes.backup", "--volume", volume, "--dest", str(dest)).returncode == 0
    earlier = {p.name: p.read_bytes() for p in dest.iterdir()}
    _in_volume(volume, "echo newer > /v/db/table")
    failed = invoke("volumes.backup", "--volume", volume, "--volume", other, "--dest", str(dest))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"pausing {paused} failed" in failed.stderr and "Traceback" not in failed.stderr
    assert f"unpause or stop {paused}" in failed.stderr
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup"]  # no partial folder left
    states = _docker("inspect", "-f", "{{.Name}} {{.State.Status}}", running, paused).stdout
    assert states.split() == [f"/{running}", "running", f"/{paused}", "paused"]


def _archive_of(files: dict[str, bytes]) -> bytes:
    """A tar archive as volumes.backup writes it (`./` first, numeric owners)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        root = tarfile.TarInfo("./")
        root.type, root.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(root)
        for name, data in files.items():
            member = tarfile.TarInfo(f"./{name}")
            member.size, member.mode = len(data), 0o644
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def _backup_folder(folder: Path, volume: str, archive: bytes) -> Path:
    """A backup folder of one archive, in the shape volumes.backup writes."""
    folder.mkdir()
    (folder / f"{volume}.tar").write_bytes(archive)
    entry = {
        "archive": f"{volume}.tar",
        "sha256": hashlib.sha256(archive).hexdigest(),
        "bytes": len(archive),
    }
    (folder / "manifest.json").write_text(json.dumps({"volumes": {volume: entry}}))
    return folder


@pytest.fixture
def small_volume(tmp_path: Path, seeded: None) -> Iterator[tuple[str, Path]]:
    """A volume on a 1 MiB tmpfs that keeps its data between containers: a host tmpfs bound
    into a local volume (a `--opt type=tmpfs` volume is emptied whenever no container uses it,
    so it could not hold old data for a restore to keep)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (root needed): {mounted.stderr.strip()}")
    name = f"mcp-test-small-{uuid.uuid4().hex[:8]}"
    try:
        created = _docker(
            "volume", "create", "--driver", "local", "--opt", "type=none", "--opt", "o=bind",
            "--opt", f"device={folder}", name,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        (folder / "probe").write_text("seen")
        if _in_volume(name, "cat /v/probe") != "seen":
            pytest.skip("the engine does not see this host's folders (a remote engine?)")
        (folder / "probe").unlink()
        yield name, folder
    finally:
        _docker("volume", "rm", "-f", name)
        subprocess.run(["umount", str(folder)], capture_output=True, check=False)


def _tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under `folder` (and the folder itself) with its mode and content."""
    found = {".": (folder.stat().st_mode, b"")}
    for path in sorted(folder.rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        found[str(path.relative_to(folder))] = (path.stat().st_mode, data)
    return found


def _plant(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


LEFTOVER = "0123456789ab"
# A restore cut short at each stage: what the volume holds, and what it must hold once the next
# restore has finished the interrupted one (before it fails for lack of space).
CUT_SHORT = {
    "none": ({"keep": "old", "d/y": "x"}, {"keep": "old", "d/y": "x"}),
    "moving": (
        {"a": "A", f".restore-moving-{LEFTOVER}/b": "B", f".restore-moving-{LEFTOVER}/d/c": "C"},
        {"a": "A", "b": "B", "d/c": "C"},
    ),
    "old": (
        {"partial-new": "N", f".restore-old-{LEFTOVER}/b": "B"},
        {"b": "B"},
    ),
    "done": ({"n": "N", f".restore-done-{LEFTOVER}/stale": "S"}, {"n": "N"}),
}


@pytest.mark.parametrize("cut_short", list(CUT_SHORT))
def test_a_restore_that_fails_part_way_keeps_the_old_data(
    small_volume: tuple[str, Path], tmp_path: Path, cut_short: str
) -> None:
    """The archive (2 MB) does not fit the 1 MiB volume: the copy fails part-way, and the
    volume holds its old data, as it was or as the restore cut short before had left it."""
    name, folder = small_volume
    planted, expected = CUT_SHORT[cut_short]
    _plant(folder, planted)
    # The volume's own mode, and the copy of it an interrupted restore keeps on its folder.
    for path in [folder, *folder.glob(".restore-*")]:
        os.chmod(path, 0o750)
    blob = (b"\x00\x01" + os.urandom(64)) * 30_000
    backup = _backup_folder(tmp_path / "b", name, _archive_of({"big": blob, "keep": b"new"}))
    want = tmp_path / "want"
    want.mkdir()
    _plant(want, expected)
    result = invoke("volumes.restore", "--src", str(backup), "--volume", name, "--force")
    assert result.returncode == 1, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "make room: a disk or volume is full" in message, message
    assert f"volume {name} keeps its old data" in message and "start the engine" not in message
    assert "Traceback" not in result.stderr
    assert {k: v[1] for k, v in _tree(folder).items()} == {k: v[1] for k, v in _tree(want).items()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert _staging_volumes(name) == []


def test_a_restore_the_volume_has_room_for_finishes_the_one_cut_short(
    small_volume: tuple[str, Path], tmp_path: Path
) -> None:
    name, folder = small_volume
    _plant(folder, CUT_SHORT["old"][0])
    backup = _backup_folder(tmp_path / "b", name, _archive_of({"restored": b"R"}))
    refused = invoke("volumes.restore", "--src", str(backup), "--volume", name)
    assert refused.returncode == 1 and f"volume {name} is not empty" in refused.stderr
    result = invoke("volumes.restore", "--src", str(backup), "--volume", name, "--force")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["restored"]


@pytest.fixture
def user(volume: str) -> Iterator[str]:
    """A running container that uses the volume."""
    name = f"mcp-test-user-{uuid.uuid4().hex[:8]}"
    started = _docker("run", "-d", "--name", name, "-v", f"{volume}:/v", HELPER, "sleep", "600")
    assert started.returncode == 0, started.stderr
    yield name
    _docker("rm", "-f", name)


def _started_at(container: str) -> tuple[str, str]:
    out = _docker("inspect", "-f", "{{.State.Status}} {{.State.StartedAt}}", container).stdout
    status, started = out.split()
    return status, started


def test_restore_refuses_a_volume_a_running_container_uses(
    volume: str, user: str, tmp_path: Path
) -> None:
    original = _digest(volume)
    assert (
        invoke("volumes.backup", "--volume", volume, "--dest", str(tmp_path / "b")).returncode == 0
    )
    _in_volume(volume, "echo newer > /v/db/table")
    changed = _digest(volume)
    refused = invoke("volumes.restore", "--src", str(tmp_path / "b"), "--volume", volume, "--force")
    message = " ".join(refused.stderr.split())
    assert refused.returncode == 1, message
    assert f"volume {volume} is in use by running container(s) {user}" in message
    assert "--stop" in message and _digest(volume) == changed
    before = _started_at(user)
    stopped = invoke(
        "volumes.restore", "--src", str(tmp_path / "b"), "--volume", volume, "--force", "--stop"
    )
    assert stopped.returncode == 0, stopped.stderr
    after = _started_at(user)
    assert after[0] == "running" and after[1] != before[1]  # stopped, then started again
    assert _digest(volume) == original


def test_a_container_stopped_for_a_failed_restore_is_started_again(
    small_volume: tuple[str, Path], tmp_path: Path
) -> None:
    name, folder = small_volume
    _plant(folder, {"keep": "old"})
    container = f"mcp-test-user-{uuid.uuid4().hex[:8]}"
    started = _docker("run", "-d", "--name", container, "-v", f"{name}:/v", HELPER, "sleep", "600")
    assert started.returncode == 0, started.stderr
    try:
        archive = _archive_of({"big": os.urandom(2_000_000)})
        backup = _backup_folder(tmp_path / "b", name, archive)
        result = invoke(
            "volumes.restore", "--src", str(backup), "--volume", name, "--force", "--stop"
        )
        assert result.returncode == 1 and "keeps its old data" in result.stderr
        assert _started_at(container)[0] == "running"
        assert (folder / "keep").read_text() == "old"
    finally:
        _docker("rm", "-f", container)


@pytest.mark.parametrize(
    "archive",
    ["{volume}.tar;touch pwned", "$(touch pwned).tar", "../{volume}.tar", "sub/{volume}.tar"],
)
def test_archive_names_a_shell_or_a_path_would_act_on_are_refused(
    volume: str, tmp_path: Path, archive: str
) -> None:
    """The name is refused before anything happens, even with a matching file and checksum."""
    backup = tmp_path / "b" / "inner"
    assert invoke("volumes.backup", "--volume", volume, "--dest", str(backup)).returncode == 0
    name = archive.format(volume=volume)
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["volumes"][volume]["archive"] = name
    (backup / "manifest.json").write_text(json.dumps(manifest))
    (backup / name).parent.mkdir(exist_ok=True)
    (backup / name).write_bytes((backup / f"{volume}.tar").read_bytes())
    before = _digest(volume)
    result = invoke("volumes.restore", "--src", str(backup), "--volume", volume, "--force")
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, message
    assert f"manifest.json [volumes.{volume}]: archive {name!r} of volume {volume}" in message
    assert "is refused" in message and f"expected {volume}.tar" in message
    assert _digest(volume) == before


def test_an_archive_tar_cannot_read_changes_nothing(volume: str, tmp_path: Path) -> None:
    """Its checksum matches, so only the extraction finds it broken: the volume keeps its data,
    and a volume the restore created for it is removed again."""
    backup = _backup_folder(tmp_path / "b", volume, b"not a tar archive\n" * 100)
    before = _digest(volume)
    result = invoke("volumes.restore", "--src", str(backup), "--volume", volume, "--force")
    message = " ".join(result.stderr.split())
    assert result.returncode == 1, message
    assert f"extracting {volume}.tar into a staging volume failed: tar:" in message
    assert f"volume {volume} is untouched" in message and "start the engine" not in message
    assert _digest(volume) == before and _staging_volumes(volume) == []
    assert _docker("volume", "rm", volume).returncode == 0
    again = invoke("volumes.restore", "--src", str(backup), "--volume", volume)
    assert again.returncode == 1 and _docker("volume", "inspect", volume).returncode != 0
