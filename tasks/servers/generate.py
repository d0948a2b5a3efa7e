"""Client configs generated from the MCP manifests: devcontainer.json's
`customizations.vscode.mcp.servers`, `.vscode/mcp.json` and the portable `.mcp.json`."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any

from tasks.model.manifest import McpManifest

ROLE_LABEL = "dev.mcp-cluster.role=stdio-server"
SERVER_LABEL = "dev.mcp-cluster.server"

# How each client names the workspace folder and passes a secret.
_WORKSPACE = {
    "devcontainer": "${localWorkspaceFolder}",
    "vscode": "${workspaceFolder}",
    "portable": "$workspace",
}
# The portable config expands nothing itself: `sh` finds the workspace, which is the host path
# in LOCAL_WORKSPACE_FOLDER (set in the dev container, whose docker CLI talks to the host's
# engine) or else the folder the client starts servers in.
PORTABLE_WORKSPACE = "workspace=${LOCAL_WORKSPACE_FOLDER:-$PWD}; exec docker "


def docker_args(manifest: McpManifest, kind: str) -> list[str]:
    """The `docker run` arguments a client of `kind` uses to start the server."""
    args = [
        "run",
        "-i",
        "--rm",
        "--label",
        ROLE_LABEL,
        "--label",
        f"{SERVER_LABEL}={manifest.name}",
    ]
    for key, value in manifest.labels.items():
        if key != SERVER_LABEL:
            args += ["--label", f"{key}={value}"]
    args += manifest.hardening_args()
    for secret in manifest.secrets:
        args += ["-e", secret.name]
    for key, value in manifest.env.items():
        args += ["-e", f"{key}={value}"]
    for mount in manifest.mounts:
        source = _WORKSPACE[kind] if mount.type == "workspace" else mount.source
        args += ["-v", f"{source}:{mount.target}{':ro' if mount.read_only else ''}"]
    if manifest.network != "bridge":
        args += ["--network", manifest.network]
    return [*args, manifest.run_image, *manifest.args]


def _secret_value(kind: str, name: str, input_id: str | None) -> str:
    if kind == "vscode" and input_id:
        return f"${{input:{input_id}}}"
    return f"${{localEnv:{name}}}"


def _portable_script(args: list[str]) -> str:
    """`sh -c` text running docker with `args`, the workspace found at run time."""
    words = [shlex.quote(a).replace("'$workspace:", '"$workspace"\':') for a in args]
    return PORTABLE_WORKSPACE + " ".join(words)


def server_entry(manifest: McpManifest, kind: str) -> dict[str, Any]:
    """One server object for a client config of `kind`.

    The portable `.mcp.json` holds no `${...}` a client would have to expand: a workspace
    mount goes through `sh -c`, and a secret reaches docker from the client's environment.
    """
    args = docker_args(manifest, kind)
    if kind == "portable":
        uses_workspace = any(m.type == "workspace" for m in manifest.mounts)
        if uses_workspace:
            return {"command": "sh", "args": ["-c", _portable_script(args)]}
        return {"command": "docker", "args": args}
    entry: dict[str, Any] = {"type": "stdio", "command": "docker", "args": args}
    if manifest.secrets:
        entry["env"] = {s.name: _secret_value(kind, s.name, s.input) for s in manifest.secrets}
    return entry


def stdio_manifests(manifests: Iterable[McpManifest]) -> list[McpManifest]:
    """Manifests of servers that clients start over stdio, by name."""
    return sorted((m for m in manifests if m.transport == "stdio"), key=lambda m: m.name)


def servers(manifests: Iterable[McpManifest], kind: str) -> dict[str, Any]:
    """The servers object for a client config of `kind`."""
    return {m.name: server_entry(m, kind) for m in stdio_manifests(manifests)}


def inputs(manifests: Iterable[McpManifest]) -> list[dict[str, Any]]:
    """`.vscode/mcp.json` prompts for secrets that name an input."""
    found: dict[str, dict[str, Any]] = {}
    for manifest in stdio_manifests(manifests):
        for secret in manifest.secrets:
            if secret.input:
                found.setdefault(
                    secret.input,
                    {
                        "id": secret.input,
                        "type": "promptString",
                        "description": secret.description or secret.name,
                        "password": True,
                    },
                )
    return list(found.values())


def vscode_document(manifests: Iterable[McpManifest]) -> dict[str, Any]:
    """The whole `.vscode/mcp.json`."""
    items = list(manifests)
    return {"inputs": inputs(items), "servers": servers(items, "vscode")}


def portable_document(manifests: Iterable[McpManifest]) -> dict[str, Any]:
    """The whole portable `.mcp.json`."""
    return {"mcpServers": servers(manifests, "portable")}
