"""Stack lifecycle on the real engine with a small compose project: a failing healthcheck is
named with its logs and a non-zero exit; down removes what up created."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.clirun import invoke, invoke_json
from tests.e2e.stackguard import docker

pytestmark = pytest.mark.integration
BASE = "mcp-offline/debian:trixie"


@pytest.fixture
def sick_stack(tmp_path: Path, seeded: None) -> Iterator[Path]:
    """Two services: one healthy, one whose healthcheck always fails."""
    folder = tmp_path / ".devcontainer"
    folder.mkdir()
    project = f"mcp-test-{abs(hash(str(tmp_path))) % 10**8}"
    health = {"interval": "1s", "timeout": "2s", "retries": 2, "start_period": "1s"}
    compose = {
        "name": project,
        "services": {
            "good": {
                "image": BASE,
                "command": ["sleep", "300"],
                "restart": "unless-stopped",
                "healthcheck": {"test": ["CMD", "true"], **health},
            },
            "sick": {
                "image": BASE,
                "restart": "unless-stopped",
                "command": ["sh", "-c", "echo sick-service-marker; sleep 300"],
                "healthcheck": {
                    "test": ["CMD-SHELL", "echo sick-check-marker; exit 1"],
                    **health,
                },
            },
        },
    }
    (folder / "docker-compose.mcp.yml").write_text(yaml.safe_dump(compose))
    (folder / "devcontainer.json").write_text(
        json.dumps(
            {
                "dockerComposeFile": ["docker-compose.mcp.yml"],
                "service": "good",
                "workspaceFolder": "/workspaces/sick",
            }
        )
    )
    (folder / "devcontainer.env").write_text("")
    yield tmp_path
    invoke("stack.down", "--root", str(tmp_path))
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert leftovers == []


def test_unhealthy_service_is_named_with_its_logs(sick_stack: Path) -> None:
    code, data = invoke_json("stack.up", "--root", str(sick_stack), "--timeout", "60")
    assert code == 1
    status = {s["service"]: s for s in data["services"]}
    assert status["good"]["health"] == "healthy"
    assert status["sick"]["health"] == "unhealthy"
    assert any("sick-service-marker" in line for line in data["logs"]["sick"])
    assert "good" not in data["logs"]
    assert data["healthchecks"]["sick"] == "sick-check-marker"


def test_table_output_names_the_unhealthy_service(sick_stack: Path) -> None:
    result = invoke("stack.up", "--root", str(sick_stack), "--timeout", "60")
    assert result.returncode == 1
    assert "sick is unhealthy" in result.stdout and "sick-service-marker" in result.stdout


def test_down_with_volumes_needs_confirmation(sick_stack: Path) -> None:
    result = invoke("stack.down", "--root", str(sick_stack), "--volumes")
    assert result.returncode == 2 and "--yes" in result.stderr


def test_a_containers_logs_hold_both_streams_and_only_the_last_lines(seeded: None) -> None:
    from python_on_whales.exceptions import DockerException

    from tasks.engine.client import docker_client
    from tasks.engine.stack import container_logs

    script = "echo out-1; echo FATAL: err-1 >&2; sleep 0.5; echo out-2; sleep 60"
    started = docker("run", "-d", "--network", "none", BASE, "sh", "-c", script)
    assert started.returncode == 0, started.stderr
    container = started.stdout.strip()
    try:
        client = docker_client()
        for _ in range(100):
            text = container_logs(client, container, 500)
            if "out-2" in text:
                break
            time.sleep(0.1)
        assert sorted(text.splitlines()) == ["FATAL: err-1", "out-1", "out-2"]
        assert container_logs(client, container, 1) == "out-2\n"
    finally:
        docker("rm", "-f", container)
    with pytest.raises(DockerException):
        container_logs(client, container, 5)


def test_down_ends_sessions_that_still_use_the_stack(sick_stack: Path) -> None:
    """A container started outside compose on the stack's network and with its volume (an MCP
    session, as the prober starts them) would keep both; down ends it and removes them."""
    compose_file = sick_stack / ".devcontainer/docker-compose.mcp.yml"
    document = yaml.safe_load(compose_file.read_text())
    project = document["name"]
    network, volume = f"{project}_default", f"{project}_data"
    document["services"]["good"]["volumes"] = ["data:/data"]
    document["volumes"] = {"data": {}}
    compose_file.write_text(yaml.safe_dump(document))
    up = docker("compose", "-f", str(compose_file), "-p", project, "up", "-d", "good")
    assert up.returncode == 0, up.stderr
    session = f"{project}-session"
    started = docker(
        "run", "-d", "--rm", "--name", session, "--network", network, "-v", f"{volume}:/data",
        BASE, "sleep", "300",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        result = invoke("stack.down", "--root", str(sick_stack), "--volumes", "--yes")
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"ended sessions still using the stack: {session}" in result.stdout
        for kind, name in (("container", session), ("network", network), ("volume", volume)):
            assert docker(kind, "inspect", name).returncode != 0, f"{kind} {name} is still there"
    finally:
        docker("rm", "-f", session)
        docker("network", "rm", network)
        docker("volume", "rm", volume)
