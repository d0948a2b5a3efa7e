"""Backups and restores, the decisions alone: which manifests and archive names are trusted,
which destinations a backup may replace, how a backup folder is made private and swapped in, and
when a restore is refused or must first finish one cut short."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tasks.engine.restoreplan import ASIDE, RestorePlan, VolumeState, plan_restore
from tasks.errors import EngineError, StackError
from tasks.model.backupfolder import building, check_destination, private_file
from tasks.model.backupset import (
    Archive,
    archive_problem,
    load_manifest,
    parse_manifest,
    volume_name_problem,
)

SHA = "ab" * 32


def _entry(archive: object = "data.tar", **extra: Any) -> dict[str, Any]:
    return {"archive": archive, "sha256": SHA, "bytes": 10, **extra}


# ---------------------------------------------------------------- manifest and names


def test_a_manifest_written_by_backup_is_read() -> None:
    data = {"created": "x", "volumes": {"data": _entry(method="copied at rest")}}
    assert parse_manifest(data, Path("m.json")) == {"data": Archive("data", "data.tar", SHA, 10)}


@pytest.mark.parametrize(
    ("archive", "why"),
    [
        ("x;touch pwned.tar", "it holds characters a shell would act on"),
        ("data.tar; reboot", "it holds characters a shell would act on"),
        ("$(reboot).tar", "it holds characters a shell would act on"),
        ("../data.tar", "it points outside the backup folder"),
        ("..", "it points outside the backup folder"),
        ("sub/data.tar", "it points outside the backup folder"),
        ("/etc/shadow", "it points outside the backup folder"),
        ("other.tar", "an archive is named after its volume"),
        ("data.tar.gz", "an archive is named after its volume"),
        ("", "an archive is named after its volume"),
        (7, "it is not a file name"),
        (None, "it is not a file name"),
    ],
)
def test_an_archive_must_be_named_after_its_volume(archive: object, why: str) -> None:
    problem = archive_problem("data", archive)
    assert (
        problem == f"archive {str(archive)!r} of volume data is refused: {why}; expected data.tar"
    )
    with pytest.raises(StackError) as refused:
        parse_manifest({"volumes": {"data": _entry(archive)}}, Path("m.json"))
    assert (refused.value.key, refused.value.problem) == ("volumes.data", problem)


@pytest.mark.parametrize(
    "name", ["x", "-data", ".data", "a/b", "a;b", "a b", "", "..", "é-data", "data\n"]
)
def test_volume_names_docker_refuses_are_refused(name: str) -> None:
    assert volume_name_problem(name) is not None
    with pytest.raises(StackError) as refused:
        parse_manifest({"volumes": {name: _entry(f"{name}.tar")}}, Path("m.json"))
    assert refused.value.key == f"volumes.{name}"
    assert "is not a volume name" in refused.value.problem


@pytest.mark.parametrize("name", ["postgres-data", "mcp_cluster_db.1", "a1", "A.b-c_d"])
def test_volume_names_docker_accepts(name: str) -> None:
    assert volume_name_problem(name) is None


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "has no `volumes` mapping"),
        ({"volumes": []}, "has no `volumes` mapping"),
        ({"volumes": {"data": "data.tar"}}, "must be a mapping of archive, sha256 and bytes"),
        ({"volumes": {"data": _entry(sha256="AB" * 32)}}, "sha256 of volume data is not 64"),
        ({"volumes": {"data": _entry(sha256="ab")}}, "sha256 of volume data is not 64"),
        ({"volumes": {"data": _entry(bytes=-1)}}, "bytes of volume data is not a size"),
        ({"volumes": {"data": _entry(bytes="10")}}, "bytes of volume data is not a size"),
        ({"volumes": {"data": _entry(bytes=True)}}, "bytes of volume data is not a size"),
    ],
)
def test_a_manifest_of_another_shape_is_refused(data: Any, problem: str) -> None:
    with pytest.raises(StackError) as refused:
        parse_manifest(data, Path("m.json"))
    assert refused.value.problem.startswith(problem) and refused.value.fix


def test_an_unreadable_manifest_names_its_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(StackError) as missing:
        load_manifest(tmp_path)
    assert (missing.value.path, missing.value.problem) == (tmp_path / "manifest.json", "not found")
    (tmp_path / "manifest.json").write_text('{\n  "volumes": {,\n}')
    with pytest.raises(StackError) as broken:
        load_manifest(tmp_path)
    assert broken.value.line == 2 and broken.value.problem.startswith("not valid JSON")
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe")
    with pytest.raises(StackError):
        load_manifest(tmp_path)


# ---------------------------------------------------------------- backup folders


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_folder_is_private_and_appears_only_when_complete(tmp_path: Path) -> None:
    destination = tmp_path / "backups" / "b1"
    with building(destination) as work:
        assert work.parent == destination.parent and work.name.startswith(".b1.partial-")
        assert _mode(work) == 0o700 and not destination.exists()
        with private_file(work / "v.tar") as handle:
            handle.write(b"archive")
    assert _mode(destination) == 0o700 and _mode(destination / "v.tar") == 0o600
    assert sorted(p.name for p in destination.parent.iterdir()) == ["b1"]


def test_a_failed_backup_leaves_the_earlier_one_and_no_partial_folder(tmp_path: Path) -> None:
    destination = tmp_path / "b1"
    destination.mkdir()
    (destination / "manifest.json").write_text("{}")
    (destination / "v.tar").write_bytes(b"good")
    with pytest.raises(RuntimeError), building(destination) as work:
        (work / "v.tar").write_bytes(b"half")
        raise RuntimeError("the archive failed")
    assert (destination / "v.tar").read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1"]
    with building(destination) as work:
        (work / "manifest.json").write_text("{}")
    assert sorted(p.name for p in destination.iterdir()) == ["manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1"]


def test_a_backup_that_cannot_take_the_earlier_ones_place_puts_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = tmp_path / "b1"
    destination.mkdir()
    (destination / "v.tar").write_bytes(b"good")
    rename = Path.rename

    def refuse_the_new_one(self: Path, target: Path) -> Path:
        if self.name.startswith(".b1.partial-"):
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refuse_the_new_one)
    with pytest.raises(OSError, match="No space left"), building(destination) as work:
        (work / "v.tar").write_bytes(b"new")
    assert (destination / "v.tar").read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1"]


def test_a_private_file_never_follows_or_overwrites(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("keep")
    (tmp_path / "link.tar").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        private_file(tmp_path / "link.tar")
    assert (tmp_path / "elsewhere").read_text() == "keep"


def test_only_a_backup_folder_may_be_replaced(tmp_path: Path) -> None:
    check_destination(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_destination(tmp_path / "empty")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    for name in ("manifest.json", "a.tar", "b.tar.partial"):
        (earlier / name).write_text("x")
    check_destination(earlier)
    (earlier / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("x")
    (tmp_path / "archives").mkdir()
    (tmp_path / "archives" / "a.tar").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    for path, problem in (
        (earlier, "is not a backup folder (it holds notes.txt)"),
        (tmp_path / "file", "exists and is not a folder"),
        (tmp_path / "archives", "is not a backup folder (it has no manifest.json)"),
        (tmp_path / "link", "exists and is not a folder"),
    ):
        with pytest.raises(StackError) as refused:
            check_destination(path)
        assert (refused.value.path, refused.value.problem) == (path, problem)
        assert "choose a new or empty folder" in refused.value.fix


# ---------------------------------------------------------------- restore decisions


ARCHIVE = Path("b/data.tar")


def _state(**changes: Any) -> VolumeState:
    return VolumeState(**{"name": "data", "exists": True, "empty": True, "users": (), **changes})


def test_an_empty_or_missing_volume_is_restored_without_flags() -> None:
    assert plan_restore(_state(), ARCHIVE, False, False) == RestorePlan(
        "data", ARCHIVE, False, (), None
    )
    missing = plan_restore(_state(exists=False), ARCHIVE, False, False)
    assert missing.create and missing.stop == ()


def test_a_volume_with_data_needs_force() -> None:
    with pytest.raises(EngineError) as refused:
        plan_restore(_state(empty=False), ARCHIVE, False, False)
    assert refused.value.problem == "volume data is not empty"
    assert "--force" in refused.value.fix
    assert plan_restore(_state(empty=False), ARCHIVE, True, False).volume == "data"


def test_a_volume_in_use_needs_stop_and_its_users_are_stopped() -> None:
    busy = _state(users=("db-1", "db-2"))
    with pytest.raises(EngineError) as refused:
        plan_restore(busy, ARCHIVE, True, False)
    assert refused.value.problem == "volume data is in use by running container(s) db-1, db-2"
    assert "--stop" in refused.value.fix
    assert plan_restore(busy, ARCHIVE, True, True).stop == ("db-1", "db-2")


def test_a_restore_cut_short_is_finished_first() -> None:
    leftover = ".restore-old-0123456789ab"
    assert ASIDE.match(leftover)
    plan = plan_restore(_state(empty=False, leftovers=(leftover,)), ARCHIVE, True, False)
    assert plan.recover == leftover
    several = _state(empty=False, leftovers=(leftover, ".restore-done-0123456789ab"))
    with pytest.raises(EngineError, match="from several interrupted restores"):
        plan_restore(several, ARCHIVE, True, False)


@pytest.mark.parametrize(
    "name",
    [".restore-old-0123456789ab", ".restore-moving-aaaaaaaaaaaa", ".restore-done-000000000000"],
)
def test_the_folders_of_a_restore_cut_short_are_recognised(name: str) -> None:
    assert ASIDE.match(name)


@pytest.mark.parametrize(
    "name", [".restore-old-0123", ".restore-gone-0123456789ab", "restore-old-0123456789ab", "x"]
)
def test_other_names_are_the_user_s_data(name: str) -> None:
    assert not ASIDE.match(name)


def test_a_manifest_round_trips_through_json(tmp_path: Path) -> None:
    data = {"volumes": {"postgres-data": _entry("postgres-data.tar")}}
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    assert load_manifest(tmp_path)["postgres-data"].file == "postgres-data.tar"
