"""The dev container as VS Code opens it, driven by clients we did not write.

A fresh `git clone` of the repository, owned by uid 1000 as on a laptop (and as `vscode` inside
the container), the profile switch (`invoke env.init --profile offline`), then the official Dev
Containers CLI: `devcontainer up` builds the stack with plain `docker compose` (no staging
step), `devcontainer exec` runs as remoteUser. MCP servers are started from inside the container
as VS Code starts them, and the MCP Inspector CLI (a third-party client) does the work they
exist for from the committed config files: a commit, a query.
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
    remove_sessions,
    remove_volumes_and_tags,
)
from tests.sockproxy import engine_socket

pytestmark = pytest.mark.e2e

TOOLS = REPO / ".venv" / "node-tools" / "node_modules" / ".bin"
DEVCONTAINER = TOOLS / "devcontainer"
INSPECTOR = TOOLS / "mcp-inspector-cli"
RUNNABLE = ("fetch", "filesystem", "git", "memory")  # github needs a token this host lacks
DATABASES = {"postgres": ("sql", "mcp_server"), "mariadb": ("query", "mcp_server@%")}
OWNER = 1000
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
        assert run("chown", "-R", f"{OWNER}:{OWNER}", folder.parent).returncode == 0
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
        remove_sessions()
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
    for name in (*RUNNABLE, *DATABASES):
        assert checks[name]["status"] == "pass", checks[name]
        assert checks[name]["detail"].startswith("as vscode in devcontainer")
    assert checks["github"]["status"] == "not exercised"


def inside_config(folder: Path, tmp_path: Path, key: str = "customizations") -> Path:
    """An Inspector config whose servers run through `devcontainer exec`, inside the container
    as vscode: devcontainer.json's stdio servers as read-configuration resolves them (as VS
    Code does), or `.mcp.json`'s as committed (`key` "portable")."""
    if key == "portable":
        configured = json.loads((folder / ".mcp.json").read_text())["mcpServers"]
    else:
        read = run(DEVCONTAINER, "read-configuration", "--workspace-folder", folder)
        assert read.returncode == 0, read.stderr
        configured = json.loads(read.stdout)["configuration"]["customizations"]["vscode"]["mcp"]
        configured = configured["servers"]
    inside = {
        name: {
            "command": str(DEVCONTAINER),
            "args": ["exec", "--workspace-folder", str(folder), entry["command"], *entry["args"]],
        }
        for name, entry in configured.items()
        if "command" in entry
    }
    config = tmp_path / f"inside-{key}.json"
    config.write_text(json.dumps({"mcpServers": inside}))
    return config


def call(config: Path, server: str, tool: str, cwd: Path, **arguments: str) -> dict[str, Any]:
    """One `tools/call` through the Inspector CLI."""
    args = [arg for key, value in arguments.items() for arg in ("--tool-arg", f"{key}={value}")]
    return inspector(config, server, "--method", "tools/call", "--tool-name", tool, *args, cwd=cwd)


def text_of(answer: dict[str, Any]) -> str:
    return " ".join(str(part.get("text", "")) for part in answer.get("content", []))


def test_inspector_lists_tools_of_servers_started_inside(
    clone: dict[str, Any], tmp_path: Path
) -> None:
    """read-configuration resolves devcontainer.json as VS Code does; each server's command
    then runs through `devcontainer exec`, inside the container as vscode."""
    folder = clone["folder"]
    config = inside_config(folder, tmp_path)
    for name in RUNNABLE:
        assert tool_names(inspector(config, name, "--method", "tools/list", cwd=folder)), name
    listing = call(config, "filesystem", "list_directory", folder, path="/workspace")
    assert "[FILE] README.md" in text_of(listing)


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


def _commit_through(config: Path, folder: Path, name: str) -> None:
    """Write a file as the workspace's owner, then `git_add` and `git_commit` it through the
    git server of `config`: the commit lands, and git's new objects belong to the owner."""
    (folder / name).write_text(f"{name}\n")
    os.chown(folder / name, OWNER, OWNER)
    before = {p for p in (folder / ".git/objects").rglob("*") if p.is_file()}
    staged = call(
        config, "git", "git_add", folder, repo_path="/workspace", files=json.dumps([name])
    )
    assert not staged.get("isError"), text_of(staged)
    message = f"Add {name} through the git MCP server"
    made = call(config, "git", "git_commit", folder, repo_path="/workspace", message=message)
    assert not made.get("isError"), text_of(made)
    log = run("git", "-c", "safe.directory=*", "log", "-1", "--format=%s", cwd=folder)
    assert log.stdout.strip() == message
    created = {p for p in (folder / ".git/objects").rglob("*") if p.is_file()} - before
    assert created and {(p.stat().st_uid, p.stat().st_gid) for p in created} == {(OWNER, OWNER)}
    assert (folder / ".git/index").stat().st_uid == OWNER


def test_git_commits_as_the_workspace_owner_from_the_host(clone: dict[str, Any]) -> None:
    _commit_through(Path(".mcp.json"), clone["folder"], "from-the-host.txt")


def test_git_commits_as_the_workspace_owner_from_inside(
    clone: dict[str, Any], tmp_path: Path
) -> None:
    folder = clone["folder"]
    _commit_through(inside_config(folder, tmp_path), folder, "from-inside.txt")


@pytest.mark.parametrize("where", ["host", "inside"])
def test_no_server_reads_the_stacks_secrets(
    clone: dict[str, Any], tmp_path: Path, where: str
) -> None:
    folder = clone["folder"]
    assert "PASSWORD=" in (folder / ".devcontainer/.env").read_text()
    config = Path(".mcp.json") if where == "host" else inside_config(folder, tmp_path)
    env = call(config, "filesystem", "read_text_file", folder, path="/workspace/.devcontainer/.env")
    assert env.get("isError") and "EACCES" in text_of(env) and "PASSWORD" not in text_of(env)
    listing = call(config, "filesystem", "list_directory", folder, path="/workspace/.devcontainer")
    assert "devcontainer.json" in text_of(listing)


def test_the_git_servers_guarded_paths_refuse_writes(clone: dict[str, Any]) -> None:
    """While a git server runs, its own user can write the workspace but not git's hooks or
    config, nor the editor's or the dev container's settings."""
    import asyncio

    from tasks.servers.stdio import StdioSession

    folder = clone["folder"]
    entry = json.loads((folder / ".mcp.json").read_text())["mcpServers"]["git"]
    # the committed launcher path is relative to the workspace, where clients start it
    args = (str(folder / entry["args"][0]), *entry["args"][1:])
    session_id = f"e2e-guard-{os.getpid()}"

    async def probe_guards() -> dict[str, str]:
        with tempfile.TemporaryFile(mode="w+") as errors:
            env = {"MCP_SESSION": session_id}
            session = await StdioSession.start(entry["command"], args, env, errors)
            try:
                await session.initialize()
                found = docker(
                    "ps", "-q", "--filter", f"label=dev.mcp-cluster.session={session_id}"
                )
                container = found.stdout.strip()
                assert container, "the git server is running"
                results = {}
                for path in (".git/hooks/post-checkout", ".git/config", ".vscode/tasks.json",
                             ".devcontainer/x", ".mcpignore", "written-by-git-server"):  # fmt: skip
                    wrote = docker("exec", container, "sh", "-c", f"echo x >> /workspace/{path}")
                    results[path] = "ok" if wrote.returncode == 0 else wrote.stderr
                return results
            finally:
                await session.close()

    results = asyncio.run(probe_guards())
    assert results.pop("written-by-git-server") == "ok"
    (folder / "written-by-git-server").unlink()
    assert all("Read-only file system" in why for why in results.values()), results


@pytest.mark.parametrize("where", ["host", "inside"])
@pytest.mark.parametrize("server", sorted(DATABASES))
def test_database_servers_answer_a_query_and_refuse_a_write(
    clone: dict[str, Any], tmp_path: Path, where: str, server: str
) -> None:
    """Through the committed `.mcp.json` (the stdio bridge into the cluster network), from the
    host and from inside the container as vscode."""
    folder = clone["folder"]
    config = Path(".mcp.json") if where == "host" else inside_config(folder, tmp_path, "portable")
    assert "execute_sql" in tool_names(
        inspector(config, server, "--method", "tools/list", cwd=folder)
    )
    key, user = DATABASES[server]
    read = call(config, server, "execute_sql", folder, **{key: "SELECT CURRENT_USER"})
    assert user in text_of(read) and not read.get("isError")
    write = call(config, server, "execute_sql", folder, **{key: "CREATE TABLE e2e_evil (x int)"})
    refused = text_of(write)
    assert "e2e_evil" in refused and ("denied" in refused or "validating" in refused), refused


def _env_value(folder: Path, key: str) -> str:
    for line in (folder / ".devcontainer/.env").read_text().splitlines():
        name, _, value = line.partition("=")
        if name == key:
            return value
    raise AssertionError(f"{key} is not in .devcontainer/.env")


@pytest.mark.parametrize(
    ("service", "variable", "login"),
    [
        ("postgres-db", "PGPASSWORD",
         ["psql", "-h", "127.0.0.1", "-U", "mcp_server", "-d", "mcp", "-v", "ON_ERROR_STOP=1", "-c"]),
        ("mariadb", "MYSQL_PWD", ["mariadb", "-h", "127.0.0.1", "-umcp_server", "mcp", "-e"]),
    ],
)  # fmt: skip
def test_the_database_accounts_themselves_are_read_only(
    clone: dict[str, Any], service: str, variable: str, login: list[str]
) -> None:
    """The servers' accounts refuse writes whatever the server lets through; the password
    reaches the client by variable name, never on a command line."""
    secret = "POSTGRES_MCP_PASSWORD" if service == "postgres-db" else "MARIADB_MCP_PASSWORD"
    env = {**os.environ, variable: _env_value(clone["folder"], secret)}

    def sql(statement: str) -> subprocess.CompletedProcess[str]:
        command = ["docker", "exec", "-e", variable, f"mcp-cluster-{service}-1", *login, statement]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    assert sql("SELECT 1").returncode == 0
    for statement in ("CREATE TABLE e2e_evil (x int)", "DROP DATABASE mcp"):
        refused = sql(statement)
        assert refused.returncode != 0, statement
        assert any(
            word in refused.stderr for word in ("denied", "read-only transaction", "must be owner")
        ), refused.stderr
