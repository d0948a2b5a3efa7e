"""MCP client configs: devcontainer.json, `.vscode/mcp.json` and the portable `.mcp.json`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.errors import StackError
from tasks.model.schemas import CLIENTS, DEVCONTAINER, validate
from tasks.model.source import Document, load_jsonc

# Where each client reads its servers from.
SERVER_KEYS: dict[str, tuple[str, ...]] = {
    "devcontainer": ("customizations", "vscode", "mcp", "servers"),
    "vscode": ("servers",),
    "portable": ("mcpServers",),
}
# Keys where servers are often written by mistake (the client ignores them).
MISPLACED_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "devcontainer": (("mcpServers",), ("servers",), ("customizations", "vscode", "mcpServers")),
    "vscode": (("mcpServers",),),
    "portable": (("servers",),),
}


@dataclass(frozen=True)
class StdioServer:
    """One configured server: the command a client runs and its environment, or the URL of a
    server on the network (`type` sse or http)."""

    name: str
    type: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str]
    keys: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class ClientConfig:
    """A client config file and the servers it declares where that client looks."""

    kind: str
    path: Path
    doc: Document
    servers: dict[str, StdioServer]
    misplaced: dict[str, StdioServer]

    @property
    def server_keys(self) -> tuple[str, ...]:
        """Key path of the servers object in this kind of file."""
        return SERVER_KEYS[self.kind]


_SHAPE_FIX = {
    "devcontainer": "see https://containers.dev/implementors/json_reference/; MCP servers go "
    "under customizations.vscode.mcp.servers as {NAME: {command, args}}",
    "vscode": 'write {"servers": {NAME: {"type": "stdio", "command": ..., "args": [...]}}}',
    "portable": 'write {"mcpServers": {NAME: {"command": ..., "args": [...]}}}',
}


def load_client_config(path: Path, kind: str) -> ClientConfig:
    """Load a client config (JSONC): the servers at its kind's key, and any written under keys
    the client ignores (so their mistakes can be reported too)."""
    doc = load_jsonc(path, f"{kind} MCP config")
    if kind == "devcontainer":
        validate(doc, _without_misplaced(doc.data, kind), DEVCONTAINER, _SHAPE_FIX[kind])
    else:
        validate(doc, doc.data, CLIENTS, _SHAPE_FIX[kind], definition=kind)
    misplaced: dict[str, StdioServer] = {}
    for keys in MISPLACED_KEYS[kind]:
        misplaced.update(_servers(doc, keys))
    return ClientConfig(kind, path, doc, _servers(doc, SERVER_KEYS[kind]), misplaced)


def _without_misplaced(data: Any, kind: str) -> Any:
    """`data` without the top-level keys where servers are often written by mistake: rule
    MCP001 names those with where they belong, so the schema does not refuse them first."""
    if not isinstance(data, dict):
        return data
    misplaced = {keys[0] for keys in MISPLACED_KEYS[kind] if len(keys) == 1}
    return {key: value for key, value in data.items() if key not in misplaced}


def _servers(doc: Document, keys: tuple[str, ...]) -> dict[str, StdioServer]:
    node: Any = doc.data
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    servers: dict[str, StdioServer] = {}
    for name, spec in (node or {}).items() if isinstance(node, dict) else ():
        if not isinstance(spec, dict):
            raise StackError(
                doc.path,
                f"server {name!r} is not an object",
                'write {"command": ..., "args": [...]}',
                line=doc.line_of(*keys, name),
                key=name,
            )
        servers[name] = StdioServer(
            name,
            str(spec.get("type", "stdio")),
            str(spec.get("command", "")),
            tuple(str(a) for a in spec.get("args") or []),
            {str(k): str(v) for k, v in (spec.get("env") or {}).items()},
            (*keys, name),
            str(spec.get("url", "")),
        )
    return servers
