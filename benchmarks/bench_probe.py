"""Warm MCP latency per server as clients reach them (stdio servers and the database servers over
SSE), and what the relay in front of every stdio server costs: warm p95 through the relay
against the same image with the server started directly, measured in one run, alternating.

Usage: python benchmarks/bench_probe.py [--repeat 50] [--rounds 3] [--server memory]
Needs the stack up (`invoke stack.up`). Prints a table and writes reports/bench/probe.json.
Figures are measured, not asserted.
"""

from __future__ import annotations

import argparse
import json

from common import ROOT, invoke_json

from tasks.servers.probe import percentile, run_probes
from tasks.servers.specs import ProbeSpec

TARGETS = {"p95 (ms)": 500.0, "database p95 (ms)": 50.0, "relay p95 cost (ms)": 5.0}
ENTRYPOINTS = {"memory": "mcp-server-memory", "filesystem": "mcp-server-filesystem"}


def relay_cost(server: str, repeat: int, rounds: int) -> dict[str, float]:
    """Warm p95 of the image as configured (relay) and with the server as entrypoint."""
    base = ("run", "-i", "--rm", "--network", "none", "--label", "dev.mcp-cluster.role=bench")
    image = f"mcp-{server}:latest"
    direct = ProbeSpec(f"{server} direct", "docker", (*base, "--entrypoint",
                       ENTRYPOINTS[server], image), timeout=60)  # fmt: skip
    relayed = ProbeSpec(f"{server} relayed", "docker", (*base, image), timeout=60)
    samples: dict[str, list[float]] = {"direct": [], "relayed": []}
    for _ in range(rounds):
        for key, spec in (("direct", direct), ("relayed", relayed)):
            [result] = run_probes([spec], repeat, 1)
            assert result.ok, result.error
            samples[key] += result.latencies_ms
    figures = {f"{key} p95 (ms)": percentile(values, 95) for key, values in samples.items()}
    figures["relay p95 cost (ms)"] = figures["relayed p95 (ms)"] - figures["direct p95 (ms)"]
    return figures


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default="memory", choices=sorted(ENTRYPOINTS))
    options = parser.parse_args()
    _, probed = invoke_json("mcp.probe", "--repeat", str(options.repeat))
    rows: list[tuple[str, float, float | None]] = []
    for server in probed["servers"]:
        remote = server["name"] in ("postgres", "mariadb")
        goal = TARGETS["database p95 (ms)" if remote else "p95 (ms)"]
        rows.append((f"{server['name']} p50 (ms)", server["p50_ms"], None))
        rows.append((f"{server['name']} p95 (ms)", server["p95_ms"], goal))
    cost = relay_cost(options.server, options.repeat, options.rounds)
    rows += [(name, value, TARGETS.get(name)) for name, value in cost.items()]
    print(f"{'figure':32} {'value':>9} {'target':>9}")
    for name, value, target in rows:
        print(f"{name:32} {value:9.1f} {'' if target is None else f'<= {target:g}':>9}")
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    report = {"repeat": options.repeat, "figures": {name: value for name, value, _ in rows}}
    (out / "probe.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
