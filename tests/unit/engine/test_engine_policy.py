"""The engine's decisions, apart from its calls into Docker: each prerequisite's row (status,
what was seen, the fix), a service's status read from its `docker inspect` document, and the
archives a restore accepts."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tasks.engine.prerequisites import GIB, Facts, Row, Wanted, evaluate
from tasks.engine.restoreplan import RestorePlan, VolumeState, plan_restore, verified_archives
from tasks.engine.status import ServiceStatus, env_value, passed_at, per_service, status_of
from tasks.errors import EngineError
from tasks.model.compose import Network

PROVISION = "scripts/provision-engine.sh (as root)"
HOST = Facts(
    engine_version="20.10.24",
    api_version="1.41",
    buildx_version="github.com/docker/buildx v0.29.1",
    compose_version="Docker Compose version v2.40.3",
    free_bytes=50 * GIB,
    runtimes=["runc"],
    free_threaded={"/opt/py/bin/python3.13t": True},
    mmdebstrap=True,
    stack_subnets=["172.20.0.0/16"],
    interpreters=["python3.14t", "python3t"],
)


def rows(**changes: Any) -> dict[str, Row]:
    facts = Facts(**{**HOST.to_json(), **changes})
    found = evaluate(facts)
    assert [row.check for row in found] == [
        "docker engine",
        "buildx",
        "compose v2",
        "disk space",
        "NVIDIA runtime",
        "free-threaded Python",
        "mmdebstrap",
        "address pool",
    ]
    return {row.check: row for row in found}


# ---------------------------------------------------------------- prerequisites


def test_a_ready_host_shows_what_it_has() -> None:
    found = rows()
    assert found["docker engine"] == Row("docker engine", "ok", "20.10.24 (API 1.41)")
    assert found["buildx"] == Row("buildx", "ok", "github.com/docker/buildx v0.29.1")
    assert found["compose v2"] == Row("compose v2", "ok", "Docker Compose version v2.40.3")
    assert found["disk space"] == Row("disk space", "ok", "50.0 GiB free")
    assert found["free-threaded Python"] == Row(
        "free-threaded Python", "ok", "/opt/py/bin/python3.13t"
    )
    assert found["mmdebstrap"] == Row("mmdebstrap", "ok", "present")
    assert found["address pool"] == Row("address pool", "ok", "172.20.0.0/16 free")


def test_what_is_missing_fails_with_the_provisioning_script() -> None:
    found = rows(
        engine_version=None,
        engine_error="Cannot connect to the Docker daemon",
        buildx_version=None,
        compose_version=None,
    )
    assert found["docker engine"] == Row(
        "docker engine", "fail", "Cannot connect to the Docker daemon", PROVISION
    )
    assert found["buildx"] == Row("buildx", "fail", "docker buildx is missing", PROVISION)
    assert found["compose v2"] == Row("compose v2", "fail", "docker compose is missing", PROVISION)
    assert rows(engine_version=None)["docker engine"].detail == "not reachable"


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("Docker Compose version v2.40.3", True),
        ("docker-compose version 2.1.0", True),
        ("docker-compose version 1.29.2, build 5becea4c", False),
        ("Docker Compose version v1.29", False),
    ],
)
def test_only_compose_v2_will_do(version: str, ok: bool) -> None:
    row = rows(compose_version=version)["compose v2"]
    expected = (
        Row("compose v2", "ok", version) if ok else Row("compose v2", "fail", version, PROVISION)
    )
    assert row == expected


@pytest.mark.parametrize(
    ("free", "status", "detail"),
    [
        (10 * GIB, "ok", "10.0 GiB free"),
        (10 * GIB - 1, "warn", "10.0 GiB free"),
        (3 * GIB, "warn", "3.0 GiB free"),
        (3 * GIB - 1, "fail", "3.0 GiB free"),
        (None, "fail", "0.0 GiB free"),
    ],
)
def test_disk_space_is_ok_from_10_gib_and_fails_under_3(
    free: int | None, status: str, detail: str
) -> None:
    fix = "" if status == "ok" else "free space: `invoke build.cache --prune`"
    assert rows(free_bytes=free)["disk space"] == Row("disk space", status, detail, fix)


def test_without_the_nvidia_runtime_the_gpu_is_not_exercised() -> None:
    assert rows(runtimes=["nvidia", "runc"])["NVIDIA runtime"] == Row(
        "NVIDIA runtime", "ok", "present"
    )
    assert rows(runtimes=["nvidia-legacy"])["NVIDIA runtime"] == Row(
        "NVIDIA runtime",
        "warn",
        "no NVIDIA runtime on this host: the GPU service's GPU is not exercised",
        "install the NVIDIA Container Toolkit (.devcontainer/docs/setup/gpu-setup.md)",
    )


def test_only_an_interpreter_that_runs_without_the_gil_counts() -> None:
    found = rows(
        free_threaded={"/usr/bin/python3t": False, "/opt/b/python3.14t": True, "/c/3.13t": True}
    )
    assert found["free-threaded Python"].detail == "/opt/b/python3.14t, /c/3.13t"
    assert rows(free_threaded={"/usr/bin/python3t": False})["free-threaded Python"] == Row(
        "free-threaded Python",
        "warn",
        "none of python3.14t, python3t on PATH",
        "invoke python.freethreaded, then put its bin folder on PATH",
    )


def test_without_mmdebstrap_the_offline_profile_cannot_be_seeded() -> None:
    assert rows(mmdebstrap=False)["mmdebstrap"] == Row(
        "mmdebstrap",
        "warn",
        "missing: the offline profile cannot be seeded",
        "apt-get install -y mmdebstrap",
    )


def test_the_address_pool_names_the_networks_in_the_way() -> None:
    taken = ["old_default (172.20.0.0/16)", "vpn (10.1.5.0/24)"]
    pools = ["172.20.0.0/16", "10.1.0.0/16"]
    assert rows(overlapping_networks=taken, stack_subnets=pools)["address pool"] == Row(
        "address pool",
        "warn",
        "overlaps 172.20.0.0/16, 10.1.0.0/16: old_default (172.20.0.0/16), vpn (10.1.5.0/24)",
        "remove those networks (docker network rm) before `invoke stack.up`",
    )
    two = rows(stack_subnets=["172.20.0.0/16", "10.1.0.0/16"])["address pool"]
    assert two == Row("address pool", "ok", "172.20.0.0/16, 10.1.0.0/16 free")
    assert rows(stack_subnets=[])["address pool"] == Row(
        "address pool", "ok", "the stack pins no subnet"
    )


def test_warnings_alone_never_fail_the_doctor() -> None:
    found = rows(runtimes=[], free_threaded={}, mmdebstrap=False, free_bytes=5 * GIB)
    assert {row.status for row in found.values()} == {"ok", "warn"}


def test_the_wanted_interpreters_are_the_pinned_lines_newest_first() -> None:
    class Pin:
        def __init__(self, line: str) -> None:
            self.line = line

    class Versions:
        def all_pins(self) -> list[Pin]:
            return [Pin("3.9"), Pin("3.14"), Pin("3.13"), Pin("3.14")]

    subnets = (ipaddress.ip_network("10.9.0.0/24"), ipaddress.ip_network("10.8.0.0/24"))
    network = Network("net", "mcp-net", True, False, subnets, (), ())
    wanted = Wanted.of([network], Versions())  # type: ignore[arg-type]
    assert wanted.interpreters == ("python3.14t", "python3.13t", "python3.9t", "python3t")
    assert wanted.subnets == ["10.9.0.0/24", "10.8.0.0/24"]
    assert Wanted.of([], None) == Wanted((), ("python3t",))
    assert Wanted().interpreters == ("python3t",) and Wanted().subnets == []


# ---------------------------------------------------------------- a service's status


def inspected(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "Id": "c0ffee",
        "Name": "/mini-db-1",
        "State": {"Status": "running", "Health": {"Status": "healthy"}},
        "Config": {"Labels": {"com.docker.compose.service": "db"}, "Env": ["TOKEN=secret"]},
        "NetworkSettings": {
            "Networks": {"other": {"IPAddress": "10.0.0.9"}, "mcp": {"IPAddress": "172.20.0.20"}},
            "Ports": {
                "5432/tcp": [
                    {"HostIp": "127.0.0.1", "HostPort": "5432"},
                    {"HostIp": "::1", "HostPort": "5433"},
                ],
                "9187/tcp": None,
            },
        },
    }
    document.update(changes)
    return document


def test_a_status_is_read_from_the_inspect_document() -> None:
    assert status_of(inspected(), "mcp") == ServiceStatus(
        "db",
        "running",
        "healthy",
        "172.20.0.20",
        "127.0.0.1:5432->5432/tcp, ::1:5433->5432/tcp",
        container="c0ffee",
    )
    assert "secret" not in json.dumps(status_of(inspected(), "mcp").__dict__)  # printed as JSON


@pytest.mark.parametrize(
    ("name", "value"),
    [("PYTHON_GIL", "0"), ("OPTS", "a=b"), ("EMPTY", ""), ("TWICE", "2"), ("GIL", None)],
)
def test_a_variable_of_the_containers_environment(name: str, value: str | None) -> None:
    env = ["PYTHON_GIL=0", "OPTS=a=b", "EMPTY=", "TWICE=1", "TWICE=2", "NOEQUALS", "XGIL=1"]
    assert env_value(env, name) == value


def test_what_a_document_lacks_reads_as_nothing() -> None:
    bare = {"Id": "c1", "Name": "/lonely", "State": {"Status": "exited"}}
    assert status_of(bare, "mcp") == ServiceStatus("lonely", "exited", "none", container="c1")
    off_network = inspected(NetworkSettings={"Networks": {"other": {}}, "Ports": None})
    status = status_of(off_network, "mcp")
    assert (status.ip, status.ports) == ("", "")
    unlabelled = inspected(Config={"Labels": None}, Name="/Xenial-db-1")
    assert status_of(unlabelled, "mcp").service == "Xenial-db-1"


@pytest.mark.parametrize(
    ("state", "health", "ready", "failed"),
    [
        ("running", "healthy", True, False),
        ("running", "none", True, False),
        ("running", "starting", False, False),
        ("running", "unhealthy", False, True),
        ("restarting", "none", False, False),
        ("exited", "none", False, True),
        ("dead", "", False, True),
        ("created", "", False, False),
    ],
)
def test_ready_and_failed(state: str, health: str, ready: bool, failed: bool) -> None:
    status = ServiceStatus("db", state, health)
    assert (status.ready, status.failed) == (ready, failed)


def test_a_missing_service_is_neither_ready_nor_failed() -> None:
    status = ServiceStatus("db")
    assert (status.state, status.health, status.ready, status.failed) == (
        "missing",
        "",
        False,
        False,
    )


def test_the_newest_container_stands_for_its_service() -> None:
    newest = [ServiceStatus("db", container="new"), ServiceStatus("db", container="old")]
    assert per_service(newest) == {"db": newest[0]}


# ---------------------------------------------------------------- archives a restore accepts


def backup(folder: Path, **archives: bytes) -> None:
    entries = {}
    for volume, content in archives.items():
        (folder / f"{volume}.tar").write_bytes(content)
        digest = hashlib.sha256(content).hexdigest()
        entries[volume] = {"archive": f"{volume}.tar", "sha256": digest, "bytes": len(content)}
    (folder / "manifest.json").write_text(json.dumps({"volumes": entries}))


def test_every_archive_of_the_backup_or_the_ones_asked_for(tmp_path: Path) -> None:
    backup(tmp_path, **{"db-data": b"one", "web-data": b"two"})
    assert verified_archives(tmp_path, []) == {
        "db-data": tmp_path / "db-data.tar",
        "web-data": tmp_path / "web-data.tar",
    }
    assert verified_archives(tmp_path, ["web-data"]) == {"web-data": tmp_path / "web-data.tar"}


def test_a_volume_the_backup_lacks_is_refused_with_the_choice(tmp_path: Path) -> None:
    backup(tmp_path, **{"db-data": b"one", "web-data": b"two"})
    with pytest.raises(EngineError) as refused:
        verified_archives(tmp_path, ["db-data", "cache", "logs"])
    assert refused.value.problem == "volume cache is not in this backup"
    assert refused.value.fix == "choose from db-data, web-data"


@pytest.mark.parametrize("damage", ["changed", "missing", "link", "folder"])
def test_an_archive_that_is_not_the_one_backed_up_is_refused(tmp_path: Path, damage: str) -> None:
    backup(tmp_path, **{"db-data": b"one"})
    archive = tmp_path / "db-data.tar"
    if damage == "changed":
        archive.write_bytes(b"two")
    else:
        archive.unlink()
    if damage == "link":
        (tmp_path / "elsewhere.tar").write_bytes(b"one")
        os.symlink(tmp_path / "elsewhere.tar", archive)
    if damage == "folder":
        archive.mkdir()
    with pytest.raises(EngineError) as refused:
        verified_archives(tmp_path, [])
    assert (
        refused.value.problem == "db-data.tar of volume db-data is missing or its checksum differs"
    )
    assert refused.value.fix == "restore from an intact backup; nothing was changed"


def test_the_refusals_of_a_restore_name_their_flag() -> None:
    state = VolumeState("data", True, False, ("db-1",), (".restore-old-0123456789ab",))
    with pytest.raises(EngineError) as refused:
        plan_restore(state, Path("b/data.tar"), force=True, stop=False)
    assert refused.value.fix == (
        "stop them first, or pass --stop to stop them for the restore and start them again"
    )
    several = VolumeState("data", True, True, (), ("a", "b"))
    with pytest.raises(EngineError) as refused:
        plan_restore(several, Path("b/data.tar"), force=False, stop=False)
    assert refused.value.problem == "volume data holds a, b from several interrupted restores"
    assert refused.value.fix == (
        "keep the one with the data you want, remove the others, and run again"
    )
    with pytest.raises(EngineError) as refused:
        plan_restore(VolumeState("data", True, False, ()), Path("x"), force=False, stop=True)
    assert refused.value.fix == "pass --force to replace its contents (back it up first)"
    plan = plan_restore(state, Path("b/data.tar"), force=True, stop=True)
    assert plan == RestorePlan(
        "data", Path("b/data.tar"), False, ("db-1",), ".restore-old-0123456789ab"
    )


def run(end: str, code: int = 0) -> dict[str, Any]:
    return {"Start": "2026-12-08T00:30:17.9Z", "End": end, "ExitCode": code, "Output": "x"}


@pytest.mark.parametrize(
    ("log", "passed"),
    [
        ([run("2026-12-08T00:30:18.578915379Z")], 1796689818.578915),
        ([run("2026-12-08T00:30:18Z", 1), run("2026-12-08T00:30:23+00:00")], 1796689823.0),
        ([run("2026-12-08T01:30:23+01:00")], 1796689823.0),
        ([run("2026-12-08T00:30:18Z"), run("2026-12-08T00:30:23Z", 1)], None),  # latest failed
        ([run("2026-12-08T00:30:23Z", 2)], None),
        ([run("soon")], None),
        ([{"ExitCode": 0}], None),
        ([], None),
    ],
)
def test_when_the_engine_s_latest_healthcheck_passed(
    log: list[dict[str, Any]], passed: float | None
) -> None:
    assert passed_at(log) == (pytest.approx(passed) if passed else None)
    health = {"Status": "healthy", "Log": log}
    status = status_of(inspected(State={"Status": "running", "Health": health}), "mcp")
    assert status.passed_check_at == (pytest.approx(passed) if passed else None)
    assert "Output" not in json.dumps(status.__dict__) and '"x"' not in json.dumps(status.__dict__)
