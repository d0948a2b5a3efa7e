"""Shared helper of the benchmark scripts: run a task the way a user does and time it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.perf.measure import invoke_json as invoke_in

ROOT = Path(__file__).resolve().parents[1]


def invoke_json(*args: str) -> tuple[float, dict[str, Any]]:
    """Wall time and JSON output of `invoke ARGS --json` in this repository."""
    return invoke_in(ROOT, *args)
