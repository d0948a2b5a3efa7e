"""`invoke monitoring.*`: the monitoring tier's generated files."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, task


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
    from tasks.workflows.generate import regenerate_dashboards

    present(regenerate_dashboards(root, dry_run), False)
