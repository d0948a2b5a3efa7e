"""Command-line latency: `invoke --list` against Python's own start and invoke's import, and a
whole `invoke mcp.probe` process against the MCP Inspector CLI (a client we did not write)
listing the same server's tools from the committed `.mcp.json`, measured in one run.

Usage: python benchmarks/bench_cli.py [--repeat 7] [--server memory]
Prints a table and writes reports/bench/cli.json. Figures are measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT

from tasks.perf.measure import user_env

INVOKE = str(Path(sys.executable).with_name("invoke"))
INSPECTOR = ROOT / ".venv" / "node-tools" / "node_modules" / ".bin" / "mcp-inspector-cli"
TARGETS = {"invoke --list (s)": 0.15, "invoke --list / python": None, "mcp.probe / Inspector": 1.5}


def timed(command: list[str], repeat: int) -> float:
    """Median wall time of `command` (run from the repository root; it must succeed)."""
    env = user_env(MCP_INSPECTOR_SECRET_STORE="memory")
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--server", default="memory")
    options = parser.parse_args()
    python, repeat = sys.executable, options.repeat
    figures = {
        "python -c pass (s)": timed([python, "-c", "pass"], repeat),
        "python -c 'import invoke' (s)": timed([python, "-c", "import invoke"], repeat),
        "invoke --list (s)": timed([INVOKE, "--list"], repeat),
    }
    figures["invoke --list / python"] = figures["invoke --list (s)"] / figures["python -c pass (s)"]
    probe = [INVOKE, "mcp.probe", "-n", options.server, "-r", "1", "--json"]
    figures[f"invoke mcp.probe -n {options.server} (s)"] = timed(probe, repeat)
    if INSPECTOR.exists():
        inspector = [str(INSPECTOR), "--cli", "--config", ".mcp.json", "--server", options.server]
        figures["Inspector tools/list (s)"] = timed([*inspector, "--method", "tools/list"], repeat)
        figures["mcp.probe / Inspector"] = (
            figures[f"invoke mcp.probe -n {options.server} (s)"]
            / figures["Inspector tools/list (s)"]
        )
    else:
        print(f"no Inspector CLI at {INSPECTOR} (scripts/setup.sh --host installs it)")
    print(f"{'figure':40} {'value':>8} {'target':>8}")
    for name, value in figures.items():
        target = TARGETS.get(name)
        print(f"{name:40} {value:8.3f} {'' if target is None else f'<= {target}':>8}")
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cli.json").write_text(json.dumps({"repeat": repeat, "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
