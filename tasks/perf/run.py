"""Phase 12: measure the stack and report against the plan's targets (what `invoke perf` and
`invoke phase 12` run)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from tasks.contract import present, table
from tasks.errors import Failure
from tasks.outcome import Outcome
from tasks.perf.figures import Figure, rounded
from tasks.perf.measure import builds, mcp_latency, resources, startup
from tasks.perf.report import REPORT_DIR, machine, write_report
from tasks.report import REPO_ROOT, console


def _table(figures: list[Figure]) -> Table:
    style = {"meets": "green", "misses": "bold red", "not measured": "yellow", "no target": ""}
    rows = [
        (
            escape(f.name),
            rounded(f.value, f.unit),
            "-" if f.target is None else f"<= {rounded(f.target, f.unit)}",
            f"[{style[f.verdict]}]{f.verdict}[/]" if style[f.verdict] else f.verdict,
            escape(f.why),
        )
        for f in figures
    ]
    columns = ("figure", "measured", "target", "verdict", "note")
    return table("phase 12: figures against the plan's targets", columns, rows)


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
        figures += startup(REPO_ROOT, profile)
        say("probing the MCP servers over stdio")
        figures += mcp_latency(REPO_ROOT)
        say("reading CPU, RAM and disk")
        figures += resources()
    except (RuntimeError, subprocess.CalledProcessError, FileNotFoundError) as error:
        raise Failure(f"measuring failed: {error}") from None
    folder = Path(out) if out else REPO_ROOT / REPORT_DIR
    paths = write_report(figures, machine(), folder)
    missed = [f for f in figures if f.verdict == "misses"]
    data = {
        "ok": not missed,
        "report": {k: str(v) for k, v in paths.items()},
        "figures": [{**f.__dict__, "verdict": f.verdict} for f in figures],
    }
    views = [
        _table(figures),
        f"report: {paths['markdown']} (+ {paths['json'].name}, {paths['chart'].name})",
    ]
    present(Outcome(data, views, ok=not missed), json)
