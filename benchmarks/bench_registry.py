"""Registry benchmark: a cold build of the free-threaded images (no cache: CPython compiled)
against the same build on a second engine with no images and no cache, taking every step
from a registry's cache. Both measured in one run, on this machine.

Usage: python benchmarks/bench_registry.py [--name python-experimental]
Needs root (it starts Debian's docker-registry on 127.0.0.1 and a second dockerd). Prints a
table and writes reports/bench/registry.json. Figures are measured, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from common import ROOT, invoke_json

from tests.integration.registryhost import Registry, SecondEngine


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="python-experimental")
    options = parser.parse_args()
    build = ["build.containers", "--name", options.name, "--profile", "offline"]
    storage = Path(tempfile.mkdtemp(prefix="mcp-bench-registry-"))
    registry = Registry(storage)
    prefix = registry.prefix()
    figures: dict[str, float] = {}
    pushed: dict[str, Any] = {}
    try:
        figures["cold build, no cache (s)"], cold = invoke_json(*build, "--no-cache")
        figures["build and push (s)"], pushed = invoke_json(*build, "--registry", prefix, "--push")
        second = SecondEngine()
        try:
            second.load("mcp-offline/debian:trixie")
            engine = os.environ.get("DOCKER_HOST")
            os.environ["DOCKER_HOST"] = second.host
            try:
                figures["second engine, registry cache (s)"], shared = invoke_json(
                    *build, "--registry", prefix
                )
            finally:
                os.environ.pop("DOCKER_HOST")
                if engine is not None:
                    os.environ["DOCKER_HOST"] = engine
        finally:
            second.stop()
    finally:
        registry.stop()
        shutil.rmtree(storage, ignore_errors=True)
        if pushed.get("pushed"):
            subprocess.run(["docker", "rmi", *pushed["pushed"]], capture_output=True, check=False)
    for run in (cold, pushed, shared):
        if not run.get("ok"):
            raise SystemExit(f"a build failed, so no figure is printed: {run.get('images')}")
    figures["cold / registry cache"] = (
        figures["cold build, no cache (s)"] / figures["second engine, registry cache (s)"]
    )
    [image] = shared["images"]
    print(f"{'figure':36} {'value':>10}")
    for name, value in figures.items():
        print(f"{name:36} {value:10.2f}")
    print(f"steps from the registry cache: {image['cached_steps']}/{image['total_steps']}")
    out = ROOT / "reports" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    report = {"figures": figures, "cold": cold["images"], "shared": shared["images"]}
    (out / "registry.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
