"""Shared helper of the benchmark scripts: run a task the way a user does and time it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def invoke_json(*args: str) -> tuple[float, dict[str, Any]]:
    """Wall time and JSON output of `invoke ARGS --json`; exits with its output on failure."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "invoke", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"invoke {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout)
    return seconds, data
