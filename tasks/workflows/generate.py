"""Writing generated files from their one source: the client configs and the docs' MCP servers
table from the manifests, the Grafana dashboards from tasks/monitoring/dashboards.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from tasks.errors import EXIT_FINDINGS, Failure
from tasks.model.generated import Views, differences, unified, write_changed
from tasks.model.stack import Stack, load_stack
from tasks.monitoring.dashboards import PROVIDER_PATH, dashboards_folder, rendered_files
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT
from tasks.servers import configfiles


def regenerate(views: Views, name: Callable[[Path], str], dry_run: bool, same: str) -> Outcome:
    """Write the files of `views` that differ, or (`dry_run`) show their diffs and fail when a
    file would change; `same` is said when none differs."""
    stale = differences(views)
    names = [name(found.path) for found in stale]
    if dry_run:
        shown: list[object] = [escape(unified(f, name(f.path))) for f in stale]
    else:
        write_changed(views)
        shown = [f"wrote {found}" for found in names]
    if not stale:
        shown.append(same)
    data = {"changed": names, "written": not dry_run}
    return Outcome(data, shown, ok=not (dry_run and stale), code=EXIT_FINDINGS)


def _stack(root: str) -> Stack:
    return load_stack(Path(root) if root else REPO_ROOT)


def regenerate_clients(root: str = "", dry_run: bool = False) -> Outcome:
    """devcontainer.json's MCP servers, `.vscode/mcp.json`, `.mcp.json` and the docs' table as
    the manifests generate them."""
    stack = _stack(root)
    views = configfiles.rendered_files(stack)
    return regenerate(
        views, stack.rel, dry_run, "client configs and the docs' table match the manifests"
    )


def regenerate_dashboards(root: str = "", dry_run: bool = False) -> Outcome:
    """The Grafana dashboards as their source builds them, in the folder the compose file
    mounts where Grafana's dashboard provider reads."""
    stack = _stack(root)
    folder = dashboards_folder(stack)
    if folder is None:
        raise Failure(
            f"no service of {stack.rel(stack.compose.path)} mounts a folder at {PROVIDER_PATH}, "
            "where Grafana's dashboard provider reads: mount the dashboards folder there"
        )
    return regenerate(
        rendered_files(folder), stack.rel, dry_run, "the dashboards match their source"
    )
