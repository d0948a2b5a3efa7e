"""Build benchmark: cold parallel, cold sequential, fully cached, and the task library's overhead
over a raw `docker buildx bake` of the same generated definition, measured in one run.

Usage: python benchmarks/bench_build.py [--profile offline] [--repeat 5] [--skip-cold]
Prints a table and writes reports/bench/build.json. Figures are measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics

from common import ROOT, invoke_json

from tasks.perf.measure import raw_bake

TARGETS = {"cold build (s)": 300.0, "cached build (s)": 10.0, "build.all / raw bake": 1.3}


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="offline")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-cold", action="store_true")
    options = parser.parse_args()
    profile = ["--profile", options.profile] if options.profile else []
    figures: dict[str, float] = {}
    if not options.skip_cold:
        figures["cold parallel build (s)"] = invoke_json(
            "build.all", "--parallel", "--no-cache", *profile
        )[0]
        figures["cold sequential build (s)"] = invoke_json("build.all", "--no-cache", *profile)[0]
    invoke_json("build.all", "--parallel", *profile)
    cached, raw = [], []
    for _ in range(options.repeat):  # interleaved, so drift on the machine hits both alike
        cached.append(invoke_json("build.all", "--parallel", *profile)[0])
        raw.append(raw_bake(ROOT, profile))
    figures["cached build (s)"] = statistics.median(cached)
    figures["raw bake, cached (s)"] = statistics.median(raw)
    figures["build.all / raw bake"] = figures["cached build (s)"] / figures["raw bake, cached (s)"]
    if "cold sequential build (s)" in figures:
        figures["sequential / parallel (cold)"] = (
            figures["cold sequential build (s)"] / figures["cold parallel build (s)"]
        )
    print(f"{'figure':34} {'value':>10} {'target':>10}")
    for name, value in figures.items():
        target = TARGETS.get(name) or (
            TARGETS["cold build (s)"] if name.startswith("cold") else None
        )
        print(f"{name:34} {value:10.2f} {'' if target is None else f'<= {target}':>10}")
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "build.json").write_text(
        json.dumps({"figures": figures, "cached_runs": cached, "raw_runs": raw}, indent=2)
    )


if __name__ == "__main__":
    main()
