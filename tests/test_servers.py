"""Client configs generated from manifests, and JSONC editing that keeps comments."""

from __future__ import annotations

import os
import subprocess

import json5
import pytest

from tasks.model.stack import load_stack
from tasks.servers.generate import docker_args, inputs, servers
from tasks.servers.jsonc_edit import PathNotFound, replace_value
from tests.ministack import MiniStack

JSONC = """\
// top comment
{
  "name": "x", // trailing
  "customizations": {
    /* block } { */
    "vscode": {
      "mcp": {"servers": {"old": {"args": ["a}", "b{"]}}},
      "settings": {"k": "v"},
    },
  },
}
"""


def test_replace_value_keeps_comments_and_siblings() -> None:
    text = replace_value(JSONC, ("customizations", "vscode", "mcp", "servers"), {"new": {"x": 1}})
    assert "// top comment" in text and "/* block } { */" in text and "// trailing" in text
    data = json5.loads(text)
    assert data["customizations"]["vscode"]["mcp"]["servers"] == {"new": {"x": 1}}
    assert data["customizations"]["vscode"]["settings"] == {"k": "v"}
    assert replace_value(text, ("name",), "y").count('"y"') == 1


def test_replace_value_missing_path() -> None:
    with pytest.raises(PathNotFound):
        replace_value(JSONC, ("customizations", "nope"), 1)


def test_generated_args_per_client(mini: MiniStack) -> None:
    manifests = load_stack(mini.root).manifests
    dev = docker_args(manifests["filesystem"], "devcontainer")
    assert dev[:3] == ["run", "-i", "--rm"]
    assert "--name" not in dev
    assert "${localWorkspaceFolder}:/workspace:ro" in dev
    assert dev[-2:] == ["mini-filesystem:latest", "/workspace"]
    assert "${workspaceFolder}:/workspace:ro" in docker_args(manifests["filesystem"], "vscode")
    memory = docker_args(manifests["memory"], "devcontainer")
    hardened = ["--init", "--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
    assert memory[7:12] == hardened and "--read-only" in memory and "--pull" in memory
    env_at = memory.index("-e")
    assert memory[env_at : env_at + 2] == ["-e", "MEMORY_FILE_PATH=/memory/memory.jsonl"]
    assert "--network" in memory and "memory-data:/memory" in memory


def test_secrets_by_reference_per_client(mini: MiniStack) -> None:
    manifests = list(load_stack(mini.root).manifests.values())
    token = "GITHUB_PERSONAL_ACCESS_TOKEN"
    assert servers(manifests, "devcontainer")["github"]["env"] == {token: f"${{localEnv:{token}}}"}
    assert servers(manifests, "vscode")["github"]["env"] == {token: "${input:github-token}"}
    portable = servers(manifests, "portable")
    assert "env" not in portable["github"] and "-e" in portable["github"]["args"]
    assert "type" not in portable["github"]
    assert inputs(manifests) == [
        {"id": "github-token", "type": "promptString", "description": token, "password": True}
    ]


def test_portable_config_needs_no_variable_expansion(mini: MiniStack) -> None:
    """A client that expands nothing runs `.mcp.json` as written: sh finds the workspace."""
    portable = servers(list(load_stack(mini.root).manifests.values()), "portable")
    filesystem = portable["filesystem"]
    assert filesystem["command"] == "sh" and filesystem["args"][0] == "-c"
    script = filesystem["args"][1]
    for entry in portable.values():
        outside = [a for a in entry["args"] if a is not script]
        assert not any("${" in a for a in outside), entry
    run = subprocess.run(
        ["sh", "-c", script.replace("exec docker ", "printf '%s\\n' "), "sh"],
        cwd="/tmp",
        env={"PATH": os.environ["PATH"], "PWD": "/tmp"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "/tmp:/workspace:ro" in run.stdout.splitlines()
    inside = subprocess.run(
        ["sh", "-c", script.replace("exec docker ", "printf '%s\\n' ")],
        env={"PATH": os.environ["PATH"], "LOCAL_WORKSPACE_FOLDER": "/host/my repo"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "/host/my repo:/workspace:ro" in inside.stdout.splitlines()
