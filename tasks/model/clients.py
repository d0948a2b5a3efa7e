"""MCP client configs: devcontainer.json, `.vscode/mcp.json` and the portable `.mcp.json`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import SchemaErrors, StackError
from tasks.model.schemas import CLIENTS, DEVCONTAINER, top_level_keys, validate
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
    ignored: tuple[StackError, ...] = ()

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


# Where a top-level key VS Code ignores in devcontainer.json belongs instead.
_BELONGS = {
    "inputs": "MCP inputs go under customizations.vscode.mcp.inputs",
    "extensions": "extensions go under customizations.vscode.extensions",
    "settings": "settings go under customizations.vscode.settings",
}


def load_client_config(path: Path, kind: str) -> ClientConfig:
    """Load a client config (JSONC): the servers at its kind's key, and any written under keys
    the client ignores (so their mistakes can be reported too). In devcontainer.json, a
    top-level key the Dev Containers specification does not know is ignored by VS Code: it is
    kept out of the schema check and listed in `ignored`, with where it belongs."""
    doc = load_jsonc(path, f"{kind} MCP config")
    ignored: tuple[StackError, ...] = ()
    if kind == "devcontainer":
        ignored = _ignored_keys(doc)
        skipped = {error.key for error in ignored} | _misplaced_tops(kind)
        data = doc.data
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key not in skipped}
        try:
            validate(doc, data, DEVCONTAINER, _SHAPE_FIX[kind])
        except SchemaErrors as failed:
            raise SchemaErrors(failed.errors, ignored) from None
    else:
        validate(doc, doc.data, CLIENTS, _SHAPE_FIX[kind], definition=kind)
    misplaced: dict[str, StdioServer] = {}
    for keys in MISPLACED_KEYS[kind]:
        misplaced.update(_servers(doc, keys))
    return ClientConfig(kind, path, doc, _servers(doc, SERVER_KEYS[kind]), misplaced, ignored)


def _misplaced_tops(kind: str) -> set[str]:
    """Top-level keys where servers are often written by mistake: rule MCP001 names those
    with where they belong, so the schema does not refuse them first."""
    return {keys[0] for keys in MISPLACED_KEYS[kind] if len(keys) == 1}


def _ignored_keys(doc: Document) -> tuple[StackError, ...]:
    """devcontainer.json's top-level keys that no branch of its schema declares (VS Code
    ignores them), each with its line and where it belongs."""
    if not isinstance(doc.data, dict):
        return ()
    known = top_level_keys(DEVCONTAINER)
    found = []
    for key in doc.data:
        if key in known or key in _misplaced_tops("devcontainer"):
            continue
        close = difflib.get_close_matches(key, sorted(known), n=1)
        fix = _BELONGS.get(key) or (
            f"did you mean {close[0]!r}? Otherwise remove it" if close else "remove it"
        )
        found.append(
            StackError(
                doc.path,
                f"VS Code ignores key {key!r}: the Dev Containers specification has no such "
                "top-level key",
                fix,
                line=doc.line_of(key),
                key=key,
            )
        )
    return tuple(found)


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
