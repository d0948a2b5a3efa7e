"""`invoke monitoring.*`: the monitoring tier's generated files."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import Failure, task


@task(
    name="dashboards",
    help={
        "dry_run": "show the diff, write nothing (exit 1 when a file would change)",
        "root": "repository; default: this repository",
    },
)
def monitoring_dashboards(c: Context, dry_run: bool = False, root: str = "") -> None:
    """Write the Grafana dashboards (containers, MCP servers) from their one source,
    tasks/monitoring/dashboards.py, into the folder Grafana's provisioning reads.

    Only files whose content changes are written; `invoke check` (MON001) reports a file that
    differs from the source.
    """
    from rich.markup import escape

    from tasks.files import update_generated
    from tasks.model.stack import load_stack
    from tasks.monitoring.dashboards import PROVIDER_PATH, dashboards_folder, rendered_files
    from tasks.report import EXIT_FINDINGS, REPO_ROOT, console

    stack = load_stack(Path(root) if root else REPO_ROOT)
    folder = dashboards_folder(stack)
    if folder is None:
        raise Failure(
            f"no service of {stack.rel(stack.compose.path)} mounts a folder at {PROVIDER_PATH}, "
            "where Grafana's dashboard provider reads: mount the dashboards folder there"
        )
    changed = update_generated(
        rendered_files(folder),
        stack.rel,
        dry_run,
        lambda text: console.print(escape(text), end="", soft_wrap=True),
    )
    if not changed:
        console.print("the dashboards match their source")
    elif dry_run:
        raise Exit(code=EXIT_FINDINGS)
