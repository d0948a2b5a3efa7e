"""A failed docker call names its real cause: "start the engine" only when no engine answered,
the engine's own reason otherwise; the volume tasks say so on a dead engine without changing
anything."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from python_on_whales.exceptions import DockerException

from tasks.engine.client import ANSWERED_FIX, engine_errors
from tasks.errors import ENGINE_FIX, EngineError, EngineUnreachable
from tests.clirun import invoke


def _failing(stderr: str) -> DockerException:
    return DockerException(["docker", "run", "x"], 1, b"", stderr.encode())


@pytest.mark.parametrize(
    "stderr",
    [
        "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?",
        "error during connect: Get http://x/v1.41/info: dial tcp: lookup x: no such host",
        "permission denied while trying to connect to the Docker daemon socket at unix:///x",
    ],
)
def test_an_engine_that_does_not_answer_is_named(stderr: str) -> None:
    with pytest.raises(EngineUnreachable) as raised, engine_errors("listing volumes", "other"):
        raise _failing(stderr)
    assert raised.value.fix == ENGINE_FIX
    assert raised.value.problem == f"listing volumes failed: {stderr}"


def test_an_engine_that_refuses_names_its_reason_and_the_fix_given() -> None:
    tar_failed = "tar: ./big: Cannot write: No space left on device\ntar: Exiting with failure"
    with pytest.raises(EngineError) as raised, engine_errors("extracting", "make room"):
        raise _failing(tar_failed)
    assert not isinstance(raised.value, EngineUnreachable)
    assert (raised.value.problem, raised.value.fix) == (
        "extracting failed: tar: Exiting with failure",
        "make room",
    )
    with pytest.raises(EngineError) as plain, engine_errors("pausing db"):
        raise _failing("Error response from daemon: Container db is already paused")
    assert plain.value.fix == ANSWERED_FIX and "start the engine" not in str(plain.value)


def _backup(folder: Path) -> Path:
    folder.mkdir()
    archive = b"not read: the engine is down"
    (folder / "data.tar").write_bytes(archive)
    entry = {"archive": "data.tar", "sha256": hashlib.sha256(archive).hexdigest(), "bytes": 28}
    (folder / "manifest.json").write_text(json.dumps({"volumes": {"data": entry}}))
    return folder


def test_volume_tasks_on_a_dead_engine_say_start_it_and_change_nothing(tmp_path: Path) -> None:
    backup = _backup(tmp_path / "earlier")
    kept = {p.name: p.read_bytes() for p in backup.iterdir()}
    for args in (
        ("volumes.restore", "--src", str(backup), "--force", "--stop"),
        ("volumes.backup", "--volume", "data", "--dest", str(backup)),
    ):
        result = invoke(*args)
        assert result.returncode == 1, result.stderr
        assert "Cannot connect to the Docker daemon" in result.stderr
        assert "Fix: start the engine" in result.stderr and "Traceback" not in result.stderr
    assert {p.name: p.read_bytes() for p in backup.iterdir()} == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]
