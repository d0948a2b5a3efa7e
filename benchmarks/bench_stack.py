"""Stack benchmark: seconds from `invoke stack.up` to all-healthy (and per service), the same
start through a raw `docker compose up --wait` as baseline, and the memory of the running stack
(`docker stats`), beside the plan's targets (start <= 30 s, memory <= 8 GB).

Usage: python benchmarks/bench_stack.py [--profile offline] [--repeat 3] [--keep]
Takes the stack down before each start (volumes are kept) and at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from common import ROOT, invoke_json

from tasks.perf.measure import container_usage, raw_compose_up


def down(profile: list[str]) -> None:
    """Stop the stack, keeping volumes."""
    subprocess.run(
        [sys.executable, "-m", "invoke", "stack.down", *profile],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="offline")
    parser.add_argument("--repeat", type=int, default=3, help="starts of each kind (median)")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    profile = ["--profile", options.profile] if options.profile else []
    walls, raws = [], []
    for _ in range(options.repeat):
        down(profile)
        wall, up = invoke_json("stack.up", *profile, "--timeout", "300")
        walls.append(wall)
        services = [s["service"] for s in up["services"]]
        per_service = {s["service"]: s["seconds_to_healthy"] for s in up["services"]}
        memory = {name: used for name, (_, used) in container_usage().items()}
        down(profile)
        raws.append(raw_compose_up(ROOT, options.profile, services))
    if not options.keep:
        down(profile)
    wall, raw = statistics.median(walls), statistics.median(raws)
    total_memory = sum(memory.values())
    print(f"{'figure (median of ' + str(options.repeat) + ')':36} {'value':>10} {'target':>10}")
    print(f"{'invoke stack.up, whole process (s)':36} {wall:10.1f} {'<= 30':>10}")
    print(f"{'docker compose up --wait (s)':36} {raw:10.1f}")
    print(f"{'stack.up / compose up --wait':36} {wall / raw:10.2f} {'<= 1.05':>10}")
    print(f"{'memory of the running stack (MB)':36} {total_memory / 1e6:10.0f} {'<= 8000':>10}")
    print("seconds to healthy, last stack.up:")
    for name, seconds in per_service.items():
        print(f"  {name:34} {seconds:10.1f}")
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stack.json").write_text(
        json.dumps(
            {
                "stack_up_seconds": walls,
                "compose_up_wait_seconds": raws,
                "per_service_seconds": per_service,
                "memory_bytes": memory,
                "not_exercised": up["not_exercised"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
