"""The library's own work across threads: `invoke check`'s audit (load the stack, run every
rule) over copies of this repository's stack, in 1 thread and then split over N threads, on the
running interpreter with the GIL off (PYTHON_GIL=0) and on (PYTHON_GIL=1).

Prints the seconds and the N-thread scaling (1-thread time / N-thread time for the same work)
for each GIL setting, and a JSON line. Figures only: nothing here passes or fails on a time.

Usage: python benchmarks/bench_threads.py [--threads N] [--stacks M]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What `invoke check` reads of a repository: the stack and the client configs beside it.
STACK_FILES = (".devcontainer", ".vscode", ".mcp.json", ".gitignore")


def _copies(folder: Path, count: int) -> list[Path]:
    """`count` copies of this repository's stack under `folder`."""
    copies = []
    for index in range(count):
        target = folder / f"stack-{index}"
        target.mkdir()
        for name in STACK_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(".env"))
            elif source.is_file():
                shutil.copy2(source, target / name)
        copies.append(target)
    return copies


def _check(roots: list[Path]) -> None:
    """`invoke check`'s work for each root: load the stack, run every rule."""
    from tasks.model.stack import load_stack
    from tasks.rules.catalog import run_rules

    for root in roots:
        run_rules(load_stack(root))


def _timed(roots: list[Path], threads: int) -> float:
    """Seconds to check `roots` split over `threads` threads."""
    shares = [roots[index::threads] for index in range(threads)]
    pool = [threading.Thread(target=_check, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started


def worker(threads: int, stacks: int) -> dict[str, object]:
    """Measure in this process: best of two runs each way, after one warm-up check."""
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        roots = _copies(Path(folder), stacks)
        _check(roots[:1])
        one = min(_timed(roots, 1) for _ in range(2))
        many = min(_timed(roots, threads) for _ in range(2))
    enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {
        "python": sys.version.split()[0],
        "gil_enabled": enabled,
        "threads": threads,
        "stacks": stacks,
        "seconds_1_thread": round(one, 3),
        "seconds_n_threads": round(many, 3),
        "scaling": round(one / many, 2),
    }


def main() -> int:
    """Run the worker with the GIL off and on; print both and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stacks", type=int, default=8)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.threads, options.stacks)))
        return 0
    results = {}
    for gil in ("0", "1"):
        run = subprocess.run(
            [sys.executable, __file__, "--worker", "--threads", str(options.threads),
             "--stacks", str(options.stacks)],
            env={**os.environ, "PYTHON_GIL": gil},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if run.returncode != 0:
            print(f"bench_threads: the worker failed (PYTHON_GIL={gil}):\n{run.stderr[-2000:]}")
            return 1
        results[gil] = json.loads(run.stdout.strip().splitlines()[-1])
    for gil, label in (("0", "GIL off"), ("1", "GIL on ")):
        data = results[gil]
        print(
            f"check x{data['stacks']} on {data['python']}, {label}: 1 thread "
            f"{data['seconds_1_thread']:.2f} s, {data['threads']} threads "
            f"{data['seconds_n_threads']:.2f} s, scaling {data['scaling']:.2f}x"
        )
    print(json.dumps({"gil_off": results["0"], "gil_on": results["1"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
