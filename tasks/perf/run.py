"""Phase 12: measure the stack and report against the plan's targets (what `invoke perf` and
`invoke phase 12` run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from invoke.exceptions import Exit
from rich.markup import escape
from rich.table import Table

from tasks.perf.figures import Figure, rounded
from tasks.perf.measure import builds, mcp_latency, resources, startup
from tasks.perf.report import REPORT_DIR, machine, write_report
from tasks.report import EXIT_FINDINGS, REPO_ROOT, console, emit_json, errors


def _table(figures: list[Figure]) -> Table:
    table = Table(title="phase 12: figures against the plan's targets", title_justify="left")
    for column in ("figure", "measured", "target", "verdict", "note"):
        table.add_column(column, overflow="fold")
    style = {"meets": "green", "misses": "bold red", "not measured": "yellow", "no target": ""}
    for f in figures:
        table.add_row(
            escape(f.name),
            rounded(f.value, f.unit),
            "-" if f.target is None else f"<= {rounded(f.target, f.unit)}",
            f"[{style[f.verdict]}]{f.verdict}[/]" if style[f.verdict] else f.verdict,
            escape(f.why),
        )
    return table


def run_perf(profile: str, cold: bool, repeat: int, out: str, json: bool) -> None:
    """Measure, write the report, print it; exit 1 when a figure misses its target."""
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
