"""MCP probes against broken or missing servers, and reaping leaked stdio containers."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tasks.servers import probe, specs
from tests.clirun import invoke, invoke_json

pytestmark = pytest.mark.integration

BASE = "mcp-offline/debian:trixie"


def _run(name: str, *command: str, timeout: float = 20) -> Any:
    spec = specs.ProbeSpec(
        name,
        "docker",
        ("run", "-i", "--rm", "--label", "dev.mcp-cluster.role=stdio-server", *command),
        {},
        None,
        timeout,
    )
    return probe.run_probes([spec], 1, 1)[0]


def test_server_printing_garbage_is_named(seeded: None) -> None:
    result = _run("garbage", BASE, "sh", "-c", "echo this is not json; sleep 30", timeout=10)
    assert not result.ok
    assert "wrote output that is not JSON-RPC" in result.error
    assert result.attempts == 1


def test_server_that_never_answers_times_out(seeded: None) -> None:
    result = _run("silent", BASE, "sleep", "60", timeout=4)
    assert not result.ok and "did not answer within 4 s" in result.error


def test_missing_image_says_how_to_build_it() -> None:
    result = _run("ghost", "mcp-ghost-image:none")
    assert not result.ok and "is not built" in result.error
    assert "invoke build.mcp --name ghost" in result.error


@pytest.fixture
def leaked(seeded: None) -> Iterator[str]:
    """A labelled container left running, as a crashed client would leave it."""
    cid = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--label",
            "dev.mcp-cluster.role=stdio-server",
            "--label",
            "dev.mcp-cluster.server=leak-test",
            BASE,
            "sleep",
            "300",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    yield cid
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)


def test_mcp_clean_reaps_labelled_containers(leaked: str) -> None:
    code, data = invoke_json("mcp.clean")
    assert code == 0
    assert leaked[:12] in [item["id"] for item in data["removed"]]
    assert (
        subprocess.run(["docker", "inspect", leaked], capture_output=True, check=False).returncode
        != 0
    )
    again = invoke("mcp.clean")
    assert again.returncode == 0 and "0 container(s) removed" in again.stdout


def test_probe_of_unknown_server_is_bad_input() -> None:
    result = invoke("mcp.probe", "--name", "nope")
    assert result.returncode == 2 and "no MCP server 'nope'" in result.stderr
