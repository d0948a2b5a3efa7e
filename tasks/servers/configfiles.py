"""Renders the three client config files, and the docs' MCP servers table, from the manifests
(text, ready to write: the library's one way of generating files, tasks/model/generated.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.clients import SERVER_KEYS
from tasks.model.dockerrun import parse_docker_run
from tasks.model.generated import Views
from tasks.model.launchpolicy import scope_of, violations
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


def refuse_outside_allow_list(stack: Stack, generated: dict[str, Any]) -> None:
    """A `StackError` naming the manifest whose launch would leave the allow-list."""
    scope = scope_of(stack)
    for name, entry in generated.items():
        run = parse_docker_run(str(entry.get("command", "")), entry.get("args", []))
        found = violations(run, scope) if run is not None else []
        if found:
            manifest = stack.manifests[name]
            raise StackError(
                manifest.path,
                f"the launch of {name} would carry {found[0].problem}",
                found[0].fix,
                line=manifest.doc.line_of("name"),
                key=found[0].option,
            )


def client_documents(stack: Stack) -> dict[str, tuple[Path, Any]]:
    """Each client file by kind: its path and what the manifests generate for it (for
    devcontainer.json, the servers object alone; the file keeps the rest)."""
    manifests = list(stack.manifests.values())
    return {
        "devcontainer": (stack.devcontainer.path, servers(manifests, "devcontainer")),
        "vscode": (stack.root / VSCODE_MCP_JSON, vscode_document(manifests)),
        "portable": (stack.root / PORTABLE_MCP_JSON, portable_document(manifests)),
    }


def rendered_files(stack: Stack) -> Views:
    """Path -> the text each client file, and each doc with a generated MCP servers table,
    should have (devcontainer.json keeps its comments); a launch outside the allow-list is a
    `StackError` and nothing is rendered."""
    documents = client_documents(stack)
    keys = SERVER_KEYS["devcontainer"]
    path, generated = documents.pop("devcontainer")
    refuse_outside_allow_list(stack, generated)
    text = stack.devcontainer.doc.text
    try:
        devcontainer = replace_value(text, keys, generated)
    except PathNotFound:
        data = dict(stack.devcontainer.doc.data or {})
        devcontainer = json.dumps(_nested(data, keys, generated), indent=2) + "\n"
    views = {path: devcontainer}
    views.update({file: json.dumps(data, indent=2) + "\n" for file, data in documents.values()})
    return {**views, **rendered_docs(stack)}
