"""MCP stdio servers on the real engine: a live session survives `mcp.clean`, a client killed
twenty times leaves no server behind, and the probe stops a server that ignores everything.

The server image is built here: the relay every server image has, in front of the scripted
server tests/fakemcp.py, on the Debian Python stand-in."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tasks.engine.client import docker_client
from tasks.engine.reaper import stop_named
from tasks.servers.probe import Reach, probe
from tasks.servers.specs import ProbeSpec
from tasks.servers.stdio import StdioSession
from tests.clirun import REPO, invoke, invoke_json

pytestmark = pytest.mark.integration

ROLE = "dev.mcp-cluster.role=stdio-server"
LAUNCHER = REPO / ".devcontainer/mcp/runtime/mcp_launch.py"
DOCKERFILE = """\
FROM mcp-offline/python:3.13
COPY mcp_relay.py /usr/local/bin/mcp-relay
COPY fakemcp.py /usr/local/lib/fakemcp.py
ENTRYPOINT ["python3", "/usr/local/bin/mcp-relay", "fake", "--", "python3", "/usr/local/lib/fakemcp.py"]
"""


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server image with the relay (tag removed afterwards)."""
    invoked = invoke("build.seed", timeout=1800)
    assert invoked.returncode == 0, invoked.stdout + invoked.stderr
    context = tmp_path_factory.mktemp("server")
    shutil.copy(REPO / ".devcontainer/mcp/runtime/mcp_relay.py", context)
    shutil.copy(REPO / "tests/fakemcp.py", context)
    (context / "Dockerfile").write_text(DOCKERFILE)
    tag = f"mcp-lifecycle-test:{os.getpid()}"
    built = docker("build", "-q", "-t", tag, str(context), timeout=600)
    assert built.returncode == 0, built.stderr
    yield tag
    docker("rmi", "-f", tag)


SERVER = f"fake-{os.getpid()}"


def launch_args(image: str, session: str, mode: str = "ok") -> tuple[str, ...]:
    """The launcher's command line for the test server, as a client config would hold it."""
    return (
        str(LAUNCHER),
        "run", "-i", "--rm", "--label", ROLE, "--label", f"dev.mcp-cluster.server={SERVER}",
        "--label", f"test.session={session}", "--init", "--network", "none",
        "-e", "FAKEMCP_PID_FILE=/tmp/pid", image, mode,
    )  # fmt: skip


def containers(label: str, everything: bool = True) -> list[str]:
    args = ["ps", "-q", "--filter", f"label={label}"]
    return docker(*args, *(["-a"] if everything else [])).stdout.split()


@pytest.fixture
def session_label() -> Iterator[str]:
    label = f"test.session=s{os.getpid()}-{time.monotonic_ns()}"
    yield label
    for container in containers(label):
        docker("rm", "-f", container)


def test_a_live_session_survives_mcp_clean(image: str, session_label: str) -> None:
    session = session_label.split("=")[1]
    leftover = docker("create", "--label", ROLE, "--label", session_label, image)
    detached = docker("run", "-d", "--label", ROLE, "--label", session_label, image, "silent")
    assert leftover.returncode == 0 and detached.returncode == 0

    async def live() -> tuple[dict[str, Any], list[str]]:
        with tempfile.TemporaryFile(mode="w+") as errors:
            server = await StdioSession.start(
                sys.executable, launch_args(image, session), {}, errors
            )
            try:
                await server.initialize()
                code, cleaned = invoke_json("mcp.clean")
                assert code == 0, cleaned
                tools = await server.list_tools()  # the session still answers
                return cleaned, [t["name"] for t in tools]
            finally:
                await server.close()

    cleaned, tools = asyncio.run(live())
    assert tools == ["a", "b", "c"]
    removed = {item["id"] for item in cleaned["removed"]}
    assert {leftover.stdout.strip()[:12], detached.stdout.strip()[:12]} <= removed
    assert [k["server"] for k in cleaned["kept"] if k["server"] == SERVER] == [SERVER]
    time.sleep(1)
    assert containers(session_label) == []  # its client closed it: --rm removed it


def test_clean_all_asks_first_and_then_ends_live_sessions(image: str, session_label: str) -> None:
    session = session_label.split("=")[1]
    client = subprocess.Popen(
        [sys.executable, *launch_args(image, session, "silent")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if containers(session_label, everything=False):
                break
            time.sleep(0.1)
        refused = invoke("mcp.clean", "--all", "--server", SERVER)
        assert refused.returncode == 2 and "confirm with --yes" in refused.stderr
        assert containers(session_label, everything=False)
        # only this test's server: a developer's own sessions on this engine stay
        code, cleaned = invoke_json("mcp.clean", "--all", "--yes", "--server", SERVER)
        assert code == 0 and cleaned["kept"] == []
        assert containers(session_label) == []
        assert client.wait(timeout=30) != 0
    finally:
        client.kill()


def test_a_client_killed_twenty_times_leaves_no_server(image: str, session_label: str) -> None:
    """Each client is SIGKILLed after its handshake; the server, which ignores its closed
    stdin and SIGTERM, is ended by the relay."""
    session = session_label.split("=")[1]

    async def killed_client() -> None:
        with tempfile.TemporaryFile(mode="w+") as errors:
            server = await StdioSession.start(
                sys.executable,
                launch_args(image, session, "stubborn"),
                {},
                errors,
            )
            await server.initialize()
            os.killpg(server.process.pid, signal.SIGKILL)
            await server.close()

    async def clients() -> None:
        for _ in range(4):  # 20 in batches of 5
            await asyncio.gather(*(killed_client() for _ in range(5)))

    asyncio.run(clients())
    deadline = time.monotonic() + 10
    while containers(session_label) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert containers(session_label) == []


def _stubborn(image: str, session_label: str, name: str) -> ProbeSpec:
    """A server, container `name`, that ignores a closed stdin and SIGTERM (no relay)."""
    command = (
        "run", "-i", "--rm", "--name", name, "--label", ROLE, "--label", session_label,
        "-e", "FAKEMCP_PID_FILE=/tmp/pid", "--entrypoint", "python3", image,
        "/usr/local/lib/fakemcp.py", "stubborn",
    )  # fmt: skip
    return ProbeSpec("stubborn", "docker", command, timeout=30, container=name)


def test_the_probe_stops_a_server_that_ignores_everything(image: str, session_label: str) -> None:
    """No relay here: the server ignores its closed stdin and SIGTERM, and the docker CLI is
    killed; the probe still stops the container by name."""
    name = f"mcp-probe-stubborn-{os.getpid()}"
    spec = _stubborn(image, session_label, name)
    client = docker_client()
    result = asyncio.run(probe(spec, repeat=1, reach=Reach(stop=lambda n: stop_named(client, n))))
    assert result.ok, result.error
    assert docker("inspect", name).returncode != 0, "the probe left the server running"


def test_without_the_stop_by_name_such_a_server_would_stay(image: str, session_label: str) -> None:
    name = f"mcp-probe-stubborn-{os.getpid()}-kept"
    spec = _stubborn(image, session_label, name)
    result = asyncio.run(probe(spec, repeat=1))
    assert result.ok, result.error
    assert docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"
