"""Run the task library's CLI the way a user does, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def invoke(
    *args: str, cwd: Path = REPO, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`invoke ARGS` from `cwd` (with `env` added to the environment); output captured as
    text."""
    env = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def invoke_json(
    *args: str, cwd: Path = REPO, timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[int, Any]:
    """`invoke ARGS --json`: the exit code and the parsed stdout."""
    result = invoke(*args, "--json", cwd=cwd, timeout=timeout, env=env)
    return result.returncode, json.loads(result.stdout)
