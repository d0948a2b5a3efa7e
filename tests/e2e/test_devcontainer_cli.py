"""The dev container as VS Code opens it, driven by clients we did not write.

A fresh `git clone` of the repository, the profile switch (`invoke env.init --profile
offline`), then the official Dev Containers CLI: `devcontainer up` builds the stack with plain
`docker compose` (no staging step), `devcontainer exec` runs as remoteUser. MCP servers are
started from inside the container as VS Code starts them, and the MCP Inspector CLI (a
third-party client) lists their tools from the committed config files.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import REPO, invoke, invoke_json
from tests.e2e.stackguard import (
    docker,
    image_tags,
    refuse_existing_stack,
    remove_volumes_and_tags,
)
from tests.sockproxy import engine_socket

pytestmark = pytest.mark.e2e

TOOLS = REPO / ".venv" / "node-tools" / "node_modules" / ".bin"
DEVCONTAINER = TOOLS / "devcontainer"
INSPECTOR = TOOLS / "mcp-inspector-cli"
RUNNABLE = ("fetch", "filesystem", "git", "memory")  # github needs a token this host lacks
BUILD_SECONDS = 2400


def run(
    *args: str | Path, cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """A command with output captured; the Inspector keeps its secrets in memory."""
    env = {**os.environ, "MCP_INSPECTOR_SECRET_STORE": "memory"}
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def inspector(config: Path, server: str, *method: str, cwd: Path) -> dict[str, Any]:
    """The Inspector CLI's JSON answer for one method on one server of `config`."""
    result = run(INSPECTOR, "--cli", "--config", config, "--server", server, *method, cwd=cwd)
    assert result.returncode == 0, f"{server}: {result.stdout[-500:]} {result.stderr[-1500:]}"
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def tool_names(answer: dict[str, Any]) -> set[str]:
    """Names in a tools/list answer."""
    return {tool["name"] for tool in answer["tools"]}


@pytest.fixture(scope="module")
def clone() -> Iterator[dict[str, Any]]:
    """A fresh clone brought up by `devcontainer up`; everything it made is removed after."""
    if not DEVCONTAINER.exists() or not INSPECTOR.exists():
        pytest.fail("the Dev Containers and Inspector CLIs are missing: scripts/setup.sh --host")
    refuse_existing_stack()
    tags_before = image_tags()
    folder = Path(tempfile.mkdtemp(prefix="e2e-clone-")) / "mcp-cluster"
    compose = ["compose", "-f", str(folder / ".devcontainer/docker-compose.mcp.yml")]
    try:
        assert run("git", "clone", "--quiet", REPO, folder).returncode == 0
        assert not list(folder.rglob(".cpython")), "a fresh clone has no staged sources"
        seeded = invoke("build.seed", cwd=folder, timeout=BUILD_SECONDS)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        switched = invoke("env.init", "--profile", "offline", cwd=folder)
        assert switched.returncode == 0, switched.stderr
        code, servers = invoke_json("build.mcp", "--parallel", cwd=folder, timeout=BUILD_SECONDS)
        assert code == 0, servers
        up = run(DEVCONTAINER, "up", "--workspace-folder", folder, timeout=BUILD_SECONDS)
        outcome = json.loads(up.stdout.strip().splitlines()[-1])
        assert outcome["outcome"] == "success", up.stderr[-3000:]
        yield {"folder": folder, "up": outcome}
    finally:
        docker(*compose, "--profile", "*", "down", "--volumes", "--remove-orphans")
        remove_volumes_and_tags(tags_before)
        run("rm", "-rf", folder.parent)


def test_up_opens_the_container_as_the_remote_user(clone: dict[str, Any]) -> None:
    assert clone["up"]["remoteUser"] == "vscode"
    result = run(
        DEVCONTAINER,
        "exec",
        "--workspace-folder",
        clone["folder"],
        "sh",
        "-c",
        "id -un; id -G; docker version --format '{{.Server.Version}}'; "
        'echo "$LOCAL_WORKSPACE_FOLDER"; check-python "$PYTHON_VERSION"',
    )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == "vscode"
    assert "0" not in lines[1].split(), "vscode must not be in root's group"
    assert lines[2], "docker answers for vscode"
    assert lines[3] == str(clone["folder"])
    assert "free-threaded CPython 3.13.15" in lines[4]


def test_client_section_starts_every_server_inside(clone: dict[str, Any]) -> None:
    code, data = invoke_json("verify.client", cwd=clone["folder"], timeout=600)
    checks = {c["name"]: c for c in data["checks"]}
    assert code == 0, checks
    for name in RUNNABLE:
        assert checks[name]["status"] == "pass", checks[name]
        assert checks[name]["detail"].startswith("as vscode in devcontainer")
    assert checks["github"]["status"] == "not exercised"


def test_inspector_lists_tools_of_servers_started_inside(
    clone: dict[str, Any], tmp_path: Path
) -> None:
    """read-configuration resolves devcontainer.json as VS Code does; each server's command
    then runs through `devcontainer exec`, inside the container as vscode."""
    folder = clone["folder"]
    read = run(DEVCONTAINER, "read-configuration", "--workspace-folder", folder)
    assert read.returncode == 0, read.stderr
    configured = json.loads(read.stdout)["configuration"]["customizations"]["vscode"]["mcp"]
    inside = {
        name: {
            "command": str(DEVCONTAINER),
            "args": ["exec", "--workspace-folder", str(folder), entry["command"], *entry["args"]],
        }
        for name, entry in configured["servers"].items()
    }
    config = tmp_path / "inside.json"
    config.write_text(json.dumps({"mcpServers": inside}))
    for name in RUNNABLE:
        assert tool_names(inspector(config, name, "--method", "tools/list", cwd=folder)), name
    listing = inspector(
        config,
        "filesystem",
        "--method",
        "tools/call",
        "--tool-name",
        "list_directory",
        "--tool-arg",
        "path=/workspace",
        cwd=folder,
    )
    assert "[FILE] README.md" in listing["content"][0]["text"]


def test_inspector_runs_the_committed_client_configs(clone: dict[str, Any]) -> None:
    """`.mcp.json` as committed (the Inspector expands no variables), and each server of
    `.vscode/mcp.json` with `${workspaceFolder}` filled in as VS Code fills it."""
    folder = clone["folder"]
    for name in RUNNABLE:
        assert tool_names(inspector(Path(".mcp.json"), name, "--method", "tools/list", cwd=folder))
    log = inspector(
        Path(".mcp.json"),
        "git",
        "--method",
        "tools/call",
        "--tool-name",
        "git_log",
        "--tool-arg",
        "repo_path=/workspace",
        "--tool-arg",
        "max_count=1",
        cwd=folder,
    )
    head = run("git", "rev-parse", "HEAD", cwd=folder).stdout.strip()
    assert head in log["content"][0]["text"]
    vscode = json.loads((folder / ".vscode/mcp.json").read_text())["servers"]
    for name in RUNNABLE:
        entry = vscode[name]
        args = [a.replace("${workspaceFolder}", str(folder)) for a in entry["args"]]
        result = run(
            INSPECTOR, "--cli", entry["command"], *args, "--method", "tools/list", cwd=folder
        )
        assert result.returncode == 0, f"{name}: {result.stderr[-1500:]}"
        assert tool_names(json.loads(result.stdout)), name


@pytest.mark.parametrize("gid", [0, 100, 999, 1001, 4242])
def test_remote_user_gets_the_socket_whatever_group_owns_it(
    clone: dict[str, Any], tmp_path: Path, gid: int
) -> None:
    """Hosts own the Docker socket as root (Docker Desktop), 999, 998, 105 ... or a gid the
    image does not know; the entrypoint gives vscode access without root's group."""
    with engine_socket(tmp_path, gid) as socket:
        result = docker(
            "run",
            "--rm",
            "-v",
            f"{socket}:/var/run/docker-host.sock",
            "mcp-devcontainer:latest",
            "sh",
            "-c",
            "id -un; id -G; docker version --format '{{.Server.Version}}'",
            timeout=120,
        )
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stderr
    assert lines[0] == "vscode" and "0" not in lines[1].split()
    assert lines[2]
