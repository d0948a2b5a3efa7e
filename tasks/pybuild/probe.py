"""The stack's one free-threading probe (`check-python`, which the images also run), run by
an interpreter on the host."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHECK_PYTHON = Path(__file__).resolve().parents[2] / ".devcontainer/cpython/check-python"


@dataclass(frozen=True)
class Interpreter:
    """What `check-python --json` says of an interpreter."""

    version: str
    free_threaded_build: bool
    gil_enabled: bool


def inspect(python: str | Path, env: dict[str, str] | None = None) -> Interpreter | None:
    """The facts of `python` (run with `env` added to this process's), or None when it cannot
    run the probe."""
    try:
        result = subprocess.run(
            [str(python), str(CHECK_PYTHON), "--json"],
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        facts = json.loads(result.stdout) if result.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return Interpreter(**facts) if isinstance(facts, dict) else None
