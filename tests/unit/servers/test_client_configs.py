"""MCP client configs and server manifests read exactly: the servers each client reads, those
written where it never looks, every manifest key typed, and the launch hardening it keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.model.clients import StdioServer, load_client_config
from tasks.model.compose import Build
from tasks.model.manifest import (
    HARDENING,
    PULL_PINNED,
    REFERENCE_LABEL,
    REMOTE,
    ManifestMount,
    ProbeCall,
    SecretRef,
    load_manifest,
    load_manifests,
)
from tasks.model.stack import load_stack
from tasks.servers.generate import bridges_of, docker_args, launch, server_entry
from tests.clirun import REPO
from tests.ministack import MiniStack


@pytest.mark.parametrize(
    ("kind", "relative", "keys"),
    [
        (
            "devcontainer",
            ".devcontainer/devcontainer.json",
            ("customizations", "vscode", "mcp", "servers"),
        ),
        ("vscode", ".vscode/mcp.json", ("servers",)),
        ("portable", ".mcp.json", ("mcpServers",)),
    ],
)
def test_each_client_reads_its_own_key(
    mini: MiniStack, kind: str, relative: str, keys: tuple[str, ...]
) -> None:
    config = load_client_config(mini.root / relative, kind)
    assert (config.kind, config.path, config.server_keys) == (kind, mini.root / relative, keys)
    assert list(config.servers) == ["filesystem", "github", "memory"]
    memory = config.servers["memory"]
    assert (memory.name, memory.type, memory.command, memory.keys) == (
        "memory",
        "stdio",
        "python3",
        (*keys, "memory"),
    )
    assert memory.args[0].endswith(".devcontainer/mcp/runtime/mcp_launch.py")
    assert memory.args[1:4] == ("run", "-i", "--rm") and memory.args[-1] == "mini-memory:latest"
    assert config.misplaced == {}


def test_servers_under_keys_the_client_ignores(mini: MiniStack) -> None:
    mini.edit_json(
        "devcontainer.json",
        lambda d: (
            d.update(mcpServers={"x": {"command": "docker", "args": ["run"], "env": {"A": 1}}}),
            d["customizations"]["vscode"].update(mcpServers={"y": {"type": "sse"}}),
        ),
    )
    config = load_client_config(mini.folder / "devcontainer.json", "devcontainer")
    assert config.misplaced == {
        "x": StdioServer("x", "stdio", "docker", ("run",), {"A": "1"}, ("mcpServers", "x")),
        "y": StdioServer("y", "sse", "", (), {}, ("customizations", "vscode", "mcpServers", "y")),
    }
    assert list(config.servers) == ["filesystem", "github", "memory"]


def test_a_misplaced_server_must_still_be_an_object(mini: MiniStack) -> None:
    mini.edit_json("devcontainer.json", lambda d: d.update(mcpServers={"x": 5}))
    path = mini.folder / "devcontainer.json"
    with pytest.raises(StackError) as refused:
        load_client_config(path, "devcontainer")
    error = refused.value
    assert (error.path, error.key, error.problem, error.fix) == (
        path,
        "x",
        "server 'x' is not an object",
        'write {"command": ..., "args": [...]}',
    )
    assert error.line == (path.read_text().splitlines().index('    "x": 5') + 1)


def test_a_client_config_of_the_wrong_shape(mini: MiniStack) -> None:
    path = mini.root / ".vscode/mcp.json"
    path.write_text("[]")
    with pytest.raises(StackError) as refused:
        load_client_config(path, "vscode")
    assert refused.value.path == path
    assert (refused.value.problem, refused.value.fix) == (
        "[] is not of type 'object' (schema: mcp-clients.schema)",
        'write {"servers": {NAME: {"type": "stdio", "command": ..., "args": [...]}}}',
    )


FULL = """\
name: full
description: every key
image: full:1
build:
  context: ..
  args: {TAG: "${TAG:-3}"}
transport: stdio
network: mcp-cluster
args: [--root, "1"]
env: {A: 1}
secrets:
  - {name: TOKEN, input: tok, description: the token}
  - {name: OTHER}
mounts:
  - {type: volume, source: data, target: /data, read_only: true}
  - {type: workspace, target: /workspace}
labels: {team: x}
probe:
  tool: ping
  arguments: {n: 1}
  expect: pong
  docker_args: [-e, X=1]
  server_args: [--v]
hardening:
  read_only: writes its cache
  limits: needs more memory
"""


def test_every_manifest_key_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "mcp/full/config/full.yml"
    path.parent.mkdir(parents=True)
    path.write_text(FULL)
    manifest = load_manifest(path, {"TAG": "9"})
    assert (manifest.name, manifest.description, manifest.image) == ("full", "every key", "full:1")
    assert manifest.folder_name == "full"
    assert manifest.build == Build(
        tmp_path / "mcp/full", tmp_path / "mcp/full/Dockerfile", {"TAG": "9"}, None
    )
    assert (manifest.transport, manifest.network, manifest.service) == (
        "stdio",
        "mcp-cluster",
        None,
    )
    assert manifest.args == ("--root", "1") and manifest.env == {"A": "1"}
    assert manifest.secrets == (
        SecretRef("TOKEN", "tok", "the token"),
        SecretRef("OTHER", None, ""),
    )
    assert manifest.mounts == (
        ManifestMount("volume", "/data", "data", True),
        ManifestMount("workspace", "/workspace", "", False),
    )
    assert manifest.labels == {"team": "x"}
    assert manifest.probe == ProbeCall("ping", {"n": 1}, "pong", ("-e", "X=1"), ("--v",))
    assert manifest.hardening_exceptions == {
        "read_only": "writes its cache",
        "limits": "needs more memory",
    }
    assert manifest.hardening_args() == [
        *HARDENING["init"],
        *HARDENING["no_new_privileges"],
        *HARDENING["cap_drop"],
        *HARDENING["pull_never"],
    ]
    assert load_manifest(path, {}).build == Build(
        tmp_path / "mcp/full", tmp_path / "mcp/full/Dockerfile", {"TAG": "3"}, None
    )


def test_the_defaults_of_a_small_manifest(mini: MiniStack) -> None:
    manifests = load_manifests(mini.folder, {})
    assert list(manifests) == ["filesystem", "github", "memory"]
    memory = manifests["memory"]
    assert (memory.description, memory.args, memory.probe) == ("", (), None)
    assert memory.labels == {REFERENCE_LABEL: "memory"}
    assert memory.hardening_exceptions == {} and memory.secrets == ()
    assert memory.hardening_args() == [word for words in HARDENING.values() for word in words]
    (mini.folder / "mcp/empty").mkdir()
    (mini.folder / "mcp/file.txt").write_text("")
    assert list(load_manifests(mini.folder, {})) == ["filesystem", "github", "memory"]


def test_a_build_variable_that_must_be_set(tmp_path: Path) -> None:
    path = tmp_path / "mcp/x/config/x.yml"
    path.parent.mkdir(parents=True)
    path.write_text(
        "name: x\nimage: x\ntransport: stdio\nbuild:\n  context: ..\n  args: {A: '${A:?set A}'}\n"
    )
    with pytest.raises(StackError) as refused:
        load_manifest(path, {})
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        path,
        4,
        "build",
        "required variable A is missing: set A",
        "define A in devcontainer.env or the shell, or give a default ${A:-value}",
    )


def test_the_hardening_table_flag_by_flag() -> None:
    assert HARDENING == {
        "init": ("--init",),
        "no_new_privileges": ("--security-opt", "no-new-privileges"),
        "cap_drop": ("--cap-drop", "ALL"),
        "read_only": ("--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m"),
        "limits": ("--memory", "512m", "--cpus", "1", "--pids-limit", "256"),
        "pull_never": ("--pull", "never"),
    }
    assert PULL_PINNED == ("--pull", "missing")
    assert REMOTE == {"sse": (), "http": ("--transport", "streamablehttp")}


def test_a_remote_server_launches_through_its_bridge_with_its_url() -> None:
    stack = load_stack(REPO)
    bridges = bridges_of(stack.manifests.values())
    command, args = launch(stack.manifests["postgres"], "portable", bridges)
    assert (command, args) == (
        "python3",
        [
            ".devcontainer/mcp/runtime/mcp_launch.py",
            "run", "-i", "--rm",
            "--label", "dev.mcp-cluster.role=stdio-server",
            "--label", "dev.mcp-cluster.server=postgres",
            "--init", "--security-opt", "no-new-privileges", "--cap-drop", "ALL",
            "--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m",
            "--memory", "512m", "--cpus", "1", "--pids-limit", "256", "--pull", "never",
            "-e", "MCP_SERVER_NAME=postgres",
            "-v", "mcp-audit:/audit",
            "--network", "mcp-cluster",
            "mcp-bridge:latest", "http://postgres-mcp:8000/sse",
        ],
    )  # fmt: skip
    assert launch(stack.manifests["postgres"], "vscode", bridges)[1][0] == (
        "${workspaceFolder}/.devcontainer/mcp/runtime/mcp_launch.py"
    )
    assert server_entry(stack.manifests["postgres"], "devcontainer", bridges) == {
        "type": "sse",
        "url": "http://postgres-mcp:8000/sse",
    }
    command, args = launch(stack.manifests["postgres"], "vscode", bridges)
    entry = server_entry(stack.manifests["postgres"], "vscode", bridges)
    assert entry == {"type": "stdio", "command": command, "args": args}
    assert next(iter(entry)) == "type"


def test_a_read_only_volume_is_mounted_read_only(mini: MiniStack) -> None:
    def read_only(data: dict[str, Any]) -> None:
        data["mounts"] = [{"type": "volume", "source": "memory-data", "target": "/memory",
                           "read_only": True}]  # fmt: skip

    mini.edit_yaml("mcp/memory/config/memory.yml", read_only)
    words = docker_args(load_stack(mini.root).manifests["memory"])
    assert [words[i + 1] for i, w in enumerate(words) if w == "-v"] == [
        "memory-data:/memory:ro",
        "mcp-audit:/audit",
    ]


@pytest.mark.parametrize("bridges", ["none", "stdio"])
def test_a_bridge_that_is_not_one_is_refused_at_its_line(bridges: str) -> None:
    stack = load_stack(REPO)
    found = {} if bridges == "none" else {"bridge": stack.manifests["git"]}
    postgres = stack.manifests["postgres"]
    with pytest.raises(StackError) as refused:
        launch(postgres, "portable", found)
    assert (refused.value.path, refused.value.line, refused.value.key) == (
        postgres.path,
        9,
        "bridge",
    )
    assert refused.value.problem == "bridge 'bridge' is not a manifest with transport: bridge"
    assert refused.value.fix == (
        "name the bridge manifest (mcp/bridge/config/bridge.yml) in `bridge:`"
    )
