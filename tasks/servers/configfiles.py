"""Renders the three client config files, and the docs' MCP servers table, from the manifests
(text, ready to write)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tasks.model.clients import SERVER_KEYS
from tasks.model.stack import PORTABLE_MCP_JSON, VSCODE_MCP_JSON, Stack
from tasks.servers.docstable import rendered_docs
from tasks.servers.generate import portable_document, servers, vscode_document
from tasks.servers.jsonc_edit import PathNotFound, replace_value


def _nested(data: dict[str, Any], keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return data


def rendered_files(stack: Stack) -> dict[Path, str]:
    """Path -> the text each client file, and each doc with a generated MCP servers table,
    should have (devcontainer.json keeps its comments)."""
    manifests = list(stack.manifests.values())
    keys = SERVER_KEYS["devcontainer"]
    generated = servers(manifests, "devcontainer")
    text = stack.devcontainer.doc.text
    try:
        devcontainer = replace_value(text, keys, generated)
    except PathNotFound:
        data = dict(stack.devcontainer.doc.data or {})
        devcontainer = json.dumps(_nested(data, keys, generated), indent=2) + "\n"
    return {
        stack.devcontainer.path: devcontainer,
        stack.root / VSCODE_MCP_JSON: json.dumps(vscode_document(manifests), indent=2) + "\n",
        stack.root / PORTABLE_MCP_JSON: json.dumps(portable_document(manifests), indent=2) + "\n",
        **rendered_docs(stack),
    }
