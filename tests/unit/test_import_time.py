"""`invoke --list` stays fast: importing the task library loads invoke and the task definitions,
not the machinery the tasks run (each task imports that when it runs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.clirun import REPO

# Loaded by a task when it runs, never by `import tasks`. (yaml is not listed: invoke's own
# config loader imports it.)
HEAVY = ("python_on_whales", "rich", "jsonschema", "pydantic", "matplotlib", "json5")
# `import tasks` includes `import invoke`; the task definitions may add this much to it.
BUDGET = 1.6
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (.*)$")


def _import_tasks() -> tuple[dict[str, int], list[str]]:
    """`import tasks` and its namespace in a fresh interpreter, the repository first on
    sys.path as invoke puts it: the cumulative import time (microseconds) of each module by
    name, and every module then loaded."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); import tasks; tasks.ns; "
        "print(*sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    times: dict[str, int] = {}
    for match in map(_LINE.match, result.stderr.splitlines()):
        if match:
            times.setdefault(match[2].strip(), int(match[1]))
    return times, result.stdout.split()


def test_importing_the_tasks_loads_none_of_their_machinery() -> None:
    loaded = {name.partition(".")[0] for name in _import_tasks()[1]} & set(HEAVY)
    assert not loaded, f"`import tasks` loads {sorted(loaded)}: import them in the tasks"


def test_importing_the_tasks_costs_little_more_than_importing_invoke() -> None:
    # Both figures come from one interpreter, so a busy machine slows both alike; of five
    # runs, the fastest is the one least disturbed.
    best = min((_import_tasks()[0] for _ in range(5)), key=lambda t: t["tasks.namespace"])
    ratio = best["tasks.namespace"] / best["invoke"]
    print(
        f"\nthe tasks: {best['tasks.namespace'] / 1000:.1f} ms, of which import invoke: "
        f"{best['invoke'] / 1000:.1f} ms; ratio {ratio:.2f} (budget {BUDGET})"
    )
    assert ratio <= BUDGET, (
        f"`import tasks` takes {ratio:.2f} x its `import invoke` (budget {BUDGET}): import "
        "heavy modules inside the tasks that use them"
    )


def _bytecode_written(tmp_path: Path, **env: str) -> list[str]:
    """The library's modules whose bytecode `invoke --list` writes (under a cache prefix of
    the test's own)."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"],
        cwd=REPO,
        env={**base, "PYTHONPYCACHEPREFIX": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return sorted(p.name.partition(".")[0] for p in tmp_path.rglob("tasks/*.pyc"))


def test_invoke_keeps_the_librarys_bytecode(tmp_path: Path) -> None:
    """invoke turns bytecode writing off; the library turns it back on, so the next run does
    not compile every module again."""
    assert "namespace" in _bytecode_written(tmp_path / "kept")


def test_a_user_who_turned_bytecode_off_gets_none(tmp_path: Path) -> None:
    assert _bytecode_written(tmp_path / "off", PYTHONDONTWRITEBYTECODE="1") == []
