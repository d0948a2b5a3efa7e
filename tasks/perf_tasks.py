"""`invoke perf` (also `invoke phase 12`): measure the stack against the plan's targets."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import task

PERF_HELP = {
    "profile": "as for build.all and stack.up (e.g. offline)",
    "cold": "also measure cold builds (rebuilds every image without cache: minutes)",
    "repeat": "cached builds to take the median of",
    "out": "report folder; default: reports/perf",
    "json": "print the report as JSON",
}


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
    from tasks.perf.run import run_perf

    run_perf(profile, cold, repeat, out, json)
