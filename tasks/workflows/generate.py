"""Writing the client configs and the docs' MCP servers table from the manifests."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from tasks.errors import EXIT_FINDINGS
from tasks.model.generated import differences, unified, write_changed
from tasks.model.stack import load_stack
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT
from tasks.servers.configfiles import rendered_files


def regenerate_clients(root: str = "", dry_run: bool = False) -> Outcome:
    """devcontainer.json's MCP servers, `.vscode/mcp.json`, `.mcp.json` and the docs' table as
    the manifests generate them: written when they differ, or (`dry_run`) their diffs, failing
    when a file would change."""
    stack = load_stack(Path(root) if root else REPO_ROOT)
    views = rendered_files(stack)
    stale = differences(views)
    names = [stack.rel(found.path) for found in stale]
    if dry_run:
        shown: list[object] = [escape(unified(f, stack.rel(f.path))) for f in stale]
    else:
        write_changed(views)
        shown = [f"wrote {name}" for name in names]
    if not stale:
        shown.append("client configs and the docs' table match the manifests")
    data = {"changed": names, "written": not dry_run}
    return Outcome(data, shown, ok=not (dry_run and stale), code=EXIT_FINDINGS)
