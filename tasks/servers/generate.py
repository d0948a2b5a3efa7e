"""Client configs generated from the MCP manifests: devcontainer.json's
`customizations.vscode.mcp.servers`, `.vscode/mcp.json` and the portable `.mcp.json`.

Every stdio server starts through the launcher (`mcp/runtime/mcp_launch.py`), which adds what
only the client's machine knows at launch: the session label, the workspace mount with its
masks and guards, and the workspace owner. A server the stack serves over the network is a URL
in the dev container (which is on the cluster network) and the stdio bridge elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tasks.errors import StackError
from tasks.model.launchpolicy import AUDIT_TARGET, AUDIT_VOLUME, check_manifest
from tasks.model.manifest import REMOTE, McpManifest

ROLE_LABEL = "dev.mcp-cluster.role=stdio-server"
SERVER_LABEL = "dev.mcp-cluster.server"
LAUNCHER = ".devcontainer/mcp/runtime/mcp_launch.py"
INTERPRETER = "python3"
# Where each client finds the workspace's files (the launcher's folder is inside it).
_ROOT = {
    "devcontainer": "${containerWorkspaceFolder}/",
    "vscode": "${workspaceFolder}/",
    "portable": "",
}
# The workspace as the Docker engine sees it, when that differs from the client's view.
_SOURCE = {"devcontainer": "${localWorkspaceFolder}"}
KINDS = tuple(_ROOT)


def client_manifests(manifests: Iterable[McpManifest]) -> list[McpManifest]:
    """Manifests of the servers clients are configured with (stdio and remote), by name."""
    return sorted(
        (m for m in manifests if m.transport == "stdio" or m.remote), key=lambda m: m.name
    )


def stdio_manifests(manifests: Iterable[McpManifest]) -> list[McpManifest]:
    """Manifests of servers that clients start over stdio, by name."""
    return [m for m in client_manifests(manifests) if m.transport == "stdio"]


def docker_args(manifest: McpManifest, name: str = "", args: Iterable[str] = ()) -> list[str]:
    """The `docker run` arguments of an image manifest (a stdio server, or the bridge started
    for server `name` with `args`), every launch option from the allow-list."""
    server = name or manifest.name
    words = ["run", "-i", "--rm", "--label", ROLE_LABEL, "--label", f"{SERVER_LABEL}={server}"]
    for key, value in manifest.labels.items():
        if key != SERVER_LABEL:
            words += ["--label", f"{key}={value}"]
    words += manifest.hardening_args()
    if name:
        words += ["-e", f"MCP_SERVER_NAME={name}"]
    for secret in manifest.secrets:
        words += ["-e", secret.name]
    for key, value in manifest.env.items():
        words += ["-e", f"{key}={value}"]
    for mount in manifest.mounts:
        if mount.type == "volume":
            words += ["-v", f"{mount.source}:{mount.target}{':ro' if mount.read_only else ''}"]
    words += ["-v", f"{AUDIT_VOLUME}:{AUDIT_TARGET}"]
    if manifest.network != "bridge":
        words += ["--network", manifest.network]
    return [*words, manifest.run_image, *(args if name else manifest.args)]


def launcher_args(manifest: McpManifest, kind: str) -> list[str]:
    """The launcher's own options for a server: workspace mount, guards, owner, git author."""
    words: list[str] = []
    workspace = manifest.workspace
    if workspace is not None:
        words += ["--workspace", workspace.target + (":ro" if workspace.read_only else "")]
        if kind in _SOURCE:
            words += ["--source", _SOURCE[kind]]
        for guard in workspace.guard:
            words += ["--guard", guard]
    if manifest.user == "workspace-owner":
        words.append("--as-owner")
    if manifest.git_identity:
        words.append("--git-identity")
    return words


def launch(
    manifest: McpManifest, kind: str, bridges: Mapping[str, McpManifest]
) -> tuple[str, list[str]]:
    """The command and arguments a client of `kind` runs to start the server over stdio (a
    remote server through its bridge); refuses a launch outside the allow-list."""
    if manifest.remote:
        bridge = bridges.get(manifest.bridge)
        if bridge is None or bridge.transport != "bridge":
            raise StackError(
                manifest.path,
                f"bridge {manifest.bridge!r} is not a manifest with transport: bridge",
                "name the bridge manifest (mcp/bridge/config/bridge.yml) in `bridge:`",
                key="bridge",
                line=manifest.doc.line_of("bridge"),
            )
        check_manifest(bridge)
        run = docker_args(bridge, manifest.name, [*REMOTE[manifest.transport], manifest.url])
    else:
        check_manifest(manifest)
        run = docker_args(manifest)
    return INTERPRETER, [_ROOT[kind] + LAUNCHER, *launcher_args(manifest, kind), *run]


def _secret_value(kind: str, name: str, input_id: str | None) -> str:
    if kind == "vscode" and input_id:
        return f"${{input:{input_id}}}"
    return f"${{localEnv:{name}}}"


def server_entry(
    manifest: McpManifest, kind: str, bridges: Mapping[str, McpManifest]
) -> dict[str, Any]:
    """One server object for a client config of `kind`. The portable `.mcp.json` holds no
    `${...}` a client would have to expand: a secret reaches docker from the client's
    environment, and the launcher finds the workspace itself."""
    if manifest.remote and kind == "devcontainer":
        return {"type": manifest.transport, "url": manifest.url}
    command, args = launch(manifest, kind, bridges)
    entry: dict[str, Any] = {"command": command, "args": args}
    if kind == "portable":
        return entry
    entry = {"type": "stdio", **entry}
    if manifest.secrets:
        entry["env"] = {s.name: _secret_value(kind, s.name, s.input) for s in manifest.secrets}
    return entry


def bridges_of(manifests: Iterable[McpManifest]) -> dict[str, McpManifest]:
    """The bridge manifests by name."""
    return {m.name: m for m in manifests if m.transport == "bridge"}


def servers(manifests: Iterable[McpManifest], kind: str) -> dict[str, Any]:
    """The servers object for a client config of `kind`."""
    items = list(manifests)
    bridges = bridges_of(items)
    return {m.name: server_entry(m, kind, bridges) for m in client_manifests(items)}


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
