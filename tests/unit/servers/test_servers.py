"""Client configs generated from manifests, and JSONC editing that keeps comments."""

from __future__ import annotations

import json5
import pytest

from tasks.model.manifest import REFERENCE_LABEL
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


def test_generated_launch_per_client(mini: MiniStack) -> None:
    manifests = list(load_stack(mini.root).manifests.values())
    launcher = ".devcontainer/mcp/runtime/mcp_launch.py"
    roots = {"devcontainer": "${containerWorkspaceFolder}/", "vscode": "${workspaceFolder}/"}
    for kind, root in {**roots, "portable": ""}.items():
        filesystem = servers(manifests, kind)["filesystem"]
        assert filesystem["command"] == "python3"
        args = filesystem["args"]
        assert args[0] == root + launcher
        source = ["--source", "${localWorkspaceFolder}"] if kind == "devcontainer" else []
        assert args[1 : args.index("run")] == ["--workspace", "/workspace:ro", *source]
        assert args[-2:] == ["mini-filesystem:latest", "/workspace"]
        assert "--name" not in args and not any(":/workspace" in a for a in args)
    manifest = next(m for m in manifests if m.name == "memory")
    memory = docker_args(manifest)
    assert memory[:3] == ["run", "-i", "--rm"]
    hardened = ["--init", "--security-opt", "no-new-privileges", "--cap-drop", "ALL"]
    assert memory[3:9] == [
        "--label", "dev.mcp-cluster.role=stdio-server", "--label", "dev.mcp-cluster.server=memory",
        "--label", f"{REFERENCE_LABEL}=memory",
    ]  # fmt: skip
    assert memory[9:14] == hardened and "--read-only" in memory and "--pull" in memory
    env_at = memory.index("-e")
    assert memory[env_at : env_at + 2] == ["-e", "MEMORY_FILE_PATH=/memory/memory.jsonl"]
    volumes = [memory[i + 1] for i, a in enumerate(memory) if a == "-v"]
    assert volumes == ["memory-data:/memory", "mcp-audit:/audit"]
    assert memory[-3:] == ["--network", manifest.network, "mini-memory:latest"]


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
    """A client that expands nothing runs `.mcp.json` as written: the launcher finds the
    workspace from its own place in it."""
    portable = servers(list(load_stack(mini.root).manifests.values()), "portable")
    for entry in portable.values():
        assert entry["command"] == "python3"
        assert entry["args"][0] == ".devcontainer/mcp/runtime/mcp_launch.py"
        assert not any("${" in a for a in entry["args"]), entry
