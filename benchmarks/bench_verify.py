"""How long phase 10's checks take on a running stack: `invoke verify.all` as a user runs it
(one process), each section timed in process, and, as the baseline measured in the same run,
the sections run the way `up` used to run them (one `invoke verify.<section>` process each).

Usage: python benchmarks/bench_verify.py [--profile offline] [--repeat 3]
Needs the stack up (`invoke stack.up`). Prints a table and writes reports/bench/verify.json.
Figures are measured, not asserted; the target is verify.all <= 6 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import ROOT, invoke_json

from tasks.workflows.verify import sections, verify

TARGET_SECONDS = 6.0


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind (median)")
    options = parser.parse_args()
    profile = ["--profile", options.profile] if options.profile else []
    names = list(sections())
    whole: list[float] = []
    split: list[float] = []
    per_section: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(options.repeat):
        wall, data = invoke_json("verify.all", *profile)
        if not data.get("ok"):
            raise SystemExit(f"verify.all failed; bring the stack up first: {data}")
        whole.append(wall)
        split.append(sum(invoke_json(f"verify.{name}", *profile)[0] for name in names))
        for name in names:
            start = time.perf_counter()
            verify([name], options.profile)
            per_section[name].append(time.perf_counter() - start)
    figures = {
        "verify.all, whole process (s)": statistics.median(whole),
        "one process per section (s)": statistics.median(split),
    }
    figures["verify.all / per-section processes"] = (
        figures["verify.all, whole process (s)"] / (figures["one process per section (s)"])
    )
    sections_s = {name: statistics.median(times) for name, times in per_section.items()}
    print(f"{'figure (median of ' + str(options.repeat) + ')':40} {'value':>8} {'target':>8}")
    for label, value in figures.items():
        target = f"<= {TARGET_SECONDS:g}" if label.startswith("verify.all,") else ""
        print(f"{label:40} {value:8.2f} {target:>8}")
    print("in process, per section (s):")
    for name, seconds in sections_s.items():
        print(f"  {name:38} {seconds:8.2f}")
    out = ROOT / "reports/bench/verify.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"figures": figures, "sections": sections_s}, indent=2) + "\n")


if __name__ == "__main__":
    main()
