"""Tasks no other tier covered: their output for people and scripts, and their failures when
no engine answers (the unit tier talks to a dead socket)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.model.stack import load_stack
from tests.clirun import REPO, invoke, invoke_json
from tests.ministack import copy_repo


def test_mcp_list_shows_each_server_with_its_hardened_launch() -> None:
    code, data = invoke_json("mcp.list")
    assert code == 0
    servers = {s["name"]: s for s in data["servers"]}
    stack = load_stack(REPO)
    served = {m.name for m in stack.manifests.values() if m.transport == "stdio" or m.remote}
    assert set(servers) == served and {"postgres", "mariadb", "git"} <= served
    for server in servers.values():
        entry = server["devcontainer"]
        if server["transport"] == "sse":
            assert entry == {"type": "sse", "url": server["image"]}
            continue
        args = entry["args"]
        assert entry["command"] == "python3" and args[0].endswith("/runtime/mcp_launch.py")
        run = args.index("run")
        assert args[run : run + 3] == ["run", "-i", "--rm"]
        assert {"--init", "--read-only"} <= set(args) and "ALL" in args
    assert servers["github"]["secrets"] == ["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert servers["git"]["mounts"] == ["workspace:/workspace"]
    assert servers["filesystem"]["mounts"] == ["workspace:/workspace:ro"]
    text = invoke("mcp.list")
    assert text.returncode == 0 and "memory-data" in text.stdout
    assert "http://postgres-mcp:8000/sse" in text.stdout


def test_bake_file_is_the_plan_for_the_selected_profile() -> None:
    result = invoke("build.bake-file")
    assert result.returncode == 0, result.stderr
    bake = json.loads(result.stdout)
    stack = load_stack(REPO)
    versions = stack.versions
    assert versions is not None
    pin = versions.images["devcontainer"].pins[stack.profile or "online"]
    args = bake["target"]["devcontainer"]["args"]
    assert (args["PYTHON_VERSION"], args["PYTHON_SHA256"]) == (pin.version, pin.sha256)
    assert set(bake["group"]["default"]["targets"]) == set(bake["target"])
    assert all(t["secret"][0].startswith("id=ca,src=") for t in bake["target"].values())


def test_doctor_names_the_missing_engine_and_its_fix() -> None:
    code, data = invoke_json("doctor")
    checks = {c["check"]: c for c in data["checks"]}
    assert code == 1 and data["ok"] is False
    assert checks["docker engine"]["status"] == "fail" and checks["docker engine"]["fix"]


@pytest.mark.parametrize(
    "args",
    [
        ("volumes.list",),
        ("build.cache",),
        ("stack.ps",),
        ("stack.health",),
        ("verify.health",),
        ("build.all", "--name", "memory"),
    ],
)
def test_engine_failures_are_one_json_error(args: tuple[str, ...]) -> None:
    result = invoke(*args, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    error = json.loads(result.stdout)["error"]
    assert "Docker" in error["problem"] or "docker" in error["problem"]
    assert error["fix"]


def test_stack_up_names_a_missing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """stack.up asks the engine nothing before starting: its first poll names a dead one."""
    for name in ("POSTGRES", "MARIADB_ROOT", "POSTGRES_MCP", "MARIADB_MCP", "POSTGRES_MONITOR",
                 "MARIADB_MONITOR"):  # fmt: skip
        monkeypatch.setenv(f"{name}_PASSWORD", "unit-tier")
    result = invoke("stack.up", "--json", "--timeout", "30")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    error = json.loads(result.stdout)["error"]
    assert "listing the project's containers failed" in error["problem"] and error["fix"]


def test_stack_up_asks_for_a_mount_a_task_makes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The BuildKit service mounts certificates `invoke buildkit.certs` makes (gitignored):
    without them, stack.up names the command before starting anything."""
    for name in ("POSTGRES", "MARIADB_ROOT", "POSTGRES_MCP", "MARIADB_MCP", "POSTGRES_MONITOR",
                 "MARIADB_MONITOR"):  # fmt: skip
        monkeypatch.setenv(f"{name}_PASSWORD", "unit-tier")
    root = copy_repo(tmp_path)
    result = invoke("stack.up", "--root", str(root), "--profile", "buildkit", "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    assert json.loads(result.stdout)["error"]["problem"] == (
        "service buildkit mounts ./containers/buildx/certs/server, which does not exist yet. "
        "Fix: run `invoke buildkit.certs`"
    )


def test_stack_logs_and_restart_fail_cleanly_without_an_engine() -> None:
    for args in (("stack.logs", "--service", "postgres-db"), ("stack.restart", "postgres-db")):
        result = invoke(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "Fix:" in " ".join(result.stderr.split())


def test_tables_in_logs_are_not_cut_to_80_columns() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "mcp.list"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("│ filesystem")]
    assert len(rows) == 1 and "mcp-filesystem:latest" in rows[0], result.stdout
