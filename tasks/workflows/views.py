"""Tables for people: a build's live progress and summary, the stack's services tier by tier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tasks.contract import table

if TYPE_CHECKING:
    from rich.table import Table

    from tasks.engine.bake import ImageResult
    from tasks.engine.status import ServiceStatus
    from tasks.images.plan import Unavailable
    from tasks.images.progress import BuildLog
    from tasks.model.stack import Stack


def build_progress(log: BuildLog, names: list[str]) -> Table:
    """Each image of a running build: queued, or its status, steps done and seconds."""
    rows = []
    for name in names:
        image = log.image(name) if name in log.images else None
        if image is None:
            rows.append((name, "queued", "", ""))
            continue
        steps = f"{image.finished_steps}/{image.total_steps}" if image.total_steps else ""
        rows.append((name, image.status, steps, f"{image.seconds:.0f}"))
    return table("building", ("image", "status", "steps", "seconds"), rows)


def build_summary(
    results: list[ImageResult], unavailable: Sequence[Unavailable], seconds: float
) -> Table:
    """Each image's result (status, its own seconds, cached/total steps, size), then the images
    the profile cannot build and why."""
    from rich.markup import escape

    rows = []
    for result in results:
        style = {"failed": "red", "cached": "cyan", "built": "green"}.get(result.status, "yellow")
        size = f"{result.size_bytes / 1e6:.0f} MB" if result.size_bytes else ""
        rows.append(
            (
                result.tag,
                f"[{style}]{result.status}[/]",
                f"{result.seconds:.1f}",
                f"{result.cached_steps}/{result.total_steps}",
                size,
            )
        )
    rows += [
        (item.name, "[yellow]not buildable here[/]", "", "", escape(item.reason))
        for item in unavailable
    ]
    columns = ("image", "status", "seconds", "cached/total steps", "size")
    return table(f"build summary ({seconds:.1f} s)", columns, rows)


def failed_builds(results: list[ImageResult]) -> list[str]:
    """For each failed image: its error, then its last log lines."""
    from rich.markup import escape

    lines = []
    for result in results:
        if result.status == "failed":
            lines.append(f"[red]{result.tag} failed:[/] {escape(result.error or '')}")
            lines += [f"  {escape(line)}" for line in result.log_tail[-12:]]
    return lines


def services_table(stack: Stack, rows: dict[str, ServiceStatus], title: str) -> Table:
    """Services tier by tier: state, health, address, ports and seconds to healthy."""
    from tasks.selection import tier_of

    lines = []
    for row in sorted(rows.values(), key=lambda r: (tier_of(stack, r.service), r.service)):
        style = "green" if row.ready else "red" if row.failed else "yellow"
        seconds = f"{row.seconds_to_healthy:.1f}" if row.seconds_to_healthy is not None else ""
        lines.append(
            (
                str(tier_of(stack, row.service)),
                row.service,
                row.state,
                f"[{style}]{row.health}[/]",
                row.ip,
                row.ports,
                seconds,
            )
        )
    columns = ("tier", "service", "state", "health", "IP", "ports", "s to healthy")
    return table(title, columns, lines)
