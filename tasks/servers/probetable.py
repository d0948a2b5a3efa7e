"""The `mcp.probe` table: one row per server, its answers shown as text (a server's name,
version, protocol and error are outside text: markup escaped, control characters dropped)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.markup import escape

from tasks.servers.probe import ProbeResult
from tasks.terminal import printable

COLUMNS = ("server", "ok", "name/version", "protocol", "tools", "cold ms", "p50 ms", "p95 ms")


def shown(text: str) -> str:
    """Outside text as a table cell or line: rich markup escaped, control characters gone."""
    return escape(printable(text))


def probe_rows(results: Iterable[ProbeResult]) -> list[tuple[str, ...]]:
    """The table's rows."""
    return [
        (
            shown(r.name),
            "[green]yes[/]" if r.ok else "[red]no[/]",
            shown(f"{r.server} {r.version}"),
            shown(r.protocol),
            str(r.tools),
            f"{r.cold_start_ms:.0f}",
            f"{r.p50_ms:.0f}",
            f"{r.p95_ms:.0f}",
        )
        for r in results
    ]
