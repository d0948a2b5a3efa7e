"""Client configs generated from manifests, and JSONC editing that keeps comments."""

from __future__ import annotations

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
    assert memory[7:9] == ["-e", "MEMORY_FILE_PATH=/memory/memory.jsonl"]
    assert "--network" in memory and "memory-data:/memory" in memory


def test_secrets_by_reference_per_client(mini: MiniStack) -> None:
    manifests = list(load_stack(mini.root).manifests.values())
    token = "GITHUB_PERSONAL_ACCESS_TOKEN"
    assert servers(manifests, "devcontainer")["github"]["env"] == {token: f"${{localEnv:{token}}}"}
    assert servers(manifests, "vscode")["github"]["env"] == {token: "${input:github-token}"}
    assert servers(manifests, "portable")["github"]["env"] == {token: f"${{{token}}}"}
    assert "type" not in servers(manifests, "portable")["github"]
    assert inputs(manifests) == [
        {"id": "github-token", "type": "promptString", "description": token, "password": True}
    ]
