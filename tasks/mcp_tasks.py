"""`invoke mcp.*`: the MCP servers' client configs, generated from their manifests."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.markup import escape
from rich.table import Table

from tasks.model.stack import load_stack
from tasks.report import EXIT_FINDINGS, REPO_ROOT, bad_input_exits, console, emit_json
from tasks.servers.configfiles import rendered_files
from tasks.servers.generate import docker_args, stdio_manifests


@task(
    name="config",
    help={
        "dry_run": "show the diff, write nothing (exit 1 when a file would change)",
        "root": "repository; default: this repository",
    },
)
def mcp_config(c: Context, dry_run: bool = False, root: str = "") -> None:
    """Write devcontainer.json's MCP servers, .vscode/mcp.json and .mcp.json from the manifests.

    Only files whose content changes are written; devcontainer.json keeps its comments.
    """
    with bad_input_exits(False):
        stack = load_stack(Path(root) if root else REPO_ROOT)
    changed = []
    for path, text in rendered_files(stack).items():
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        if old == text:
            continue
        changed.append(path)
        name = stack.rel(path)
        if dry_run:
            diff = difflib.unified_diff(old.splitlines(True), text.splitlines(True), name, name)
            console.print(escape("".join(diff)), end="", soft_wrap=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            console.print(f"wrote {name}")
    if not changed:
        console.print("client configs match the manifests")
    elif dry_run:
        raise Exit(code=EXIT_FINDINGS)


@task(name="list", help={"json": "print JSON", "root": "repository; default: this repository"})
def mcp_list(c: Context, json: bool = False, root: str = "") -> None:
    """List the MCP servers: image, network, mounts, secrets, and the command VS Code runs."""
    with bad_input_exits(json):
        stack = load_stack(Path(root) if root else REPO_ROOT)
    rows: list[dict[str, Any]] = [
        {
            "name": m.name,
            "image": m.image,
            "network": m.network,
            "mounts": [f"{x.source or 'workspace'}:{x.target}" for x in m.mounts],
            "secrets": [s.name for s in m.secrets],
            "command": ["docker", *docker_args(m, "devcontainer")],
        }
        for m in stdio_manifests(stack.manifests.values())
    ]
    if json:
        emit_json({"servers": rows})
        return
    table = Table(title="MCP stdio servers", title_justify="left")
    for column in ("server", "image", "network", "mounts", "secrets"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["name"],
            row["image"],
            row["network"],
            "\n".join(row["mounts"]),
            ", ".join(row["secrets"]),
        )
    console.print(table)
