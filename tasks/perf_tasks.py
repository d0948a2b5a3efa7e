"""`invoke perf` (also `invoke phase 12`): measure the stack against the plan's targets."""

from __future__ import annotations

import subprocess
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.markup import escape
from rich.table import Table

from tasks.perf.figures import Figure
from tasks.perf.measure import builds, mcp_latency, resources, startup
from tasks.perf.report import REPORT_DIR, machine, write_report
from tasks.report import EXIT_FINDINGS, REPO_ROOT, console, emit_json, errors

PERF_HELP = {
    "profile": "as for build.all and stack.up (e.g. offline)",
    "cold": "also measure cold builds (rebuilds every image without cache: minutes)",
    "repeat": "cached builds to take the median of",
    "out": "report folder; default: reports/perf",
    "json": "print the report as JSON",
}


def _table(figures: list[Figure]) -> Table:
    table = Table(title="phase 12: figures against the plan's targets", title_justify="left")
    for column in ("figure", "measured", "target", "verdict", "note"):
        table.add_column(column, overflow="fold")
    style = {"meets": "green", "misses": "bold red", "not measured": "yellow", "no target": ""}
    for f in figures:
        table.add_row(
            escape(f.name),
            "-" if f.value is None else f"{f.value:g} {f.unit}",
            "-" if f.target is None else f"<= {f.target:g} {f.unit}",
            f"[{style[f.verdict]}]{f.verdict}[/]" if style[f.verdict] else f.verdict,
            escape(f.why),
        )
    return table


@task(help=PERF_HELP)
def perf(
    c: Context,
    profile: str = "",
    cold: bool = False,
    repeat: int = 3,
    out: str = "",
    json: bool = False,
) -> None:
    """Measure build times, per-service start-up, MCP stdio latency and the stack's CPU, RAM and
    disk; compare each with the plan's targets; write Markdown, JSON and a PNG chart.

    Restarts the stack to time its start (volumes are kept). Exit 1 when a figure misses its
    target or a measurement fails.
    """
    flags = ["--profile", profile] if profile else []

    def say(text: str) -> None:
        if not json:
            console.print(f"[bold]perf[/] {text}")

    figures: list[Figure] = []
    try:
        say("timing builds")
        figures += builds(REPO_ROOT, flags, cold, repeat)
        say("timing the stack's start")
        figures += startup(REPO_ROOT, flags)
        say("probing the MCP servers over stdio")
        figures += mcp_latency(REPO_ROOT)
        say("reading CPU, RAM and disk")
        figures += resources()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as error:
        errors.print(f"[red]error:[/] measuring failed: {escape(str(error))}")
        raise Exit(code=EXIT_FINDINGS) from None
    folder = Path(out) if out else REPO_ROOT / REPORT_DIR
    paths = write_report(figures, machine(), folder)
    missed = [f for f in figures if f.verdict == "misses"]
    if json:
        emit_json(
            {
                "ok": not missed,
                "report": {k: str(v) for k, v in paths.items()},
                "figures": [{**f.__dict__, "verdict": f.verdict} for f in figures],
            }
        )
    else:
        console.print(_table(figures))
        console.print(
            f"report: {paths['markdown']} (+ {paths['json'].name}, {paths['chart'].name})"
        )
    if missed:
        raise Exit(code=EXIT_FINDINGS)
