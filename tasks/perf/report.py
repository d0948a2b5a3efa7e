"""The phase 12 report: Markdown and JSON beside a PNG chart of each figure against its target."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from tasks.perf.figures import Figure, rounded

REPORT_DIR = Path("reports") / "perf"
"""Where `invoke perf` writes its report, relative to the repository."""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    meminfo = Path("/proc/meminfo")
    total = 0
    if meminfo.is_file():
        first = meminfo.read_text().splitlines()[0].split()
        total = int(first[1]) * 1024
    return {
        "host": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(total / 1e9, 1),
        "python": platform.python_version(),
        "docker": _docker_version(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _docker_version() -> str:
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    return result.stdout.strip() or "unavailable"


def _cell(value: float | None, unit: str) -> str:
    return rounded(value, unit)


def markdown(figures: list[Figure], host: dict[str, Any], chart: str) -> str:
    """The report as Markdown: machine, then one table row per figure."""
    lines = ["# Performance validation (plan phase 12)", ""]
    lines += [f"- **{key}**: {value}" for key, value in host.items()]
    lines += ["", f"![figures against targets]({chart})", ""]
    lines += ["| figure | measured | target | verdict | note |", "|---|---|---|---|---|"]
    for f in figures:
        target = "-" if f.target is None else f"<= {rounded(f.target, f.unit)}"
        lines.append(f"| {f.name} | {_cell(f.value, f.unit)} | {target} | {f.verdict} | {f.why} |")
    return "\n".join(lines) + "\n"


def chart(figures: list[Figure], path: Path) -> None:  # pragma: no mutate block (drawing only)
    """Horizontal bars: each measured figure as a share of its target (1.0 = the target)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    rated = [f for f in figures if f.ratio is not None]
    height = max(2.5, 0.35 * len(rated) + 1.2)
    figure, axes = pyplot.subplots(figsize=(9, height))
    names = [f"{f.name} ({_cell(f.value, f.unit)})" for f in rated]
    ratios = [f.ratio or 0.0 for f in rated]
    colors = ["tab:green" if r <= 1 else "tab:red" for r in ratios]
    axes.barh(names, ratios, color=colors)
    axes.axvline(1.0, color="black", linestyle="--", linewidth=1, label="target")
    axes.invert_yaxis()
    axes.set_xlabel("measured / target (lower is better; the dashed line is the target)")
    axes.set_title("MCP cluster: figures against the plan's targets")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def write_report(figures: list[Figure], host: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write report.md, report.json and chart.png into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "markdown": folder / "report.md",
        "json": folder / "report.json",
        "chart": folder / "chart.png",
    }
    chart(figures, paths["chart"])
    paths["markdown"].write_text(markdown(figures, host, paths["chart"].name), encoding="utf-8")
    data = {
        "machine": host,
        "figures": [{**f.__dict__, "verdict": f.verdict, "ratio": f.ratio} for f in figures],
    }
    paths["json"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return paths
