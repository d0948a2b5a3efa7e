"""Shared helper of the benchmark scripts: run a task the way a user does and time it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The task library runs from the checkout (it is not an installed package).
sys.path.insert(0, str(ROOT))

from tasks.perf.measure import invoke_json as invoke_in  # noqa: E402


def invoke_json(*args: str) -> tuple[float, dict[str, Any]]:
    """Wall time and JSON output of `invoke ARGS --json` in this repository."""
    return invoke_in(ROOT, *args)
