"""The Nox sessions users call, and the build matrix read from the stack."""

from __future__ import annotations

import subprocess
import sys

from tasks.model.versions import load_versions
from tests.clirun import REPO


def _free_threaded_lines() -> list[str]:
    """The free-threaded lines versions.json pins, read through the library's model."""
    versions = load_versions(REPO / ".devcontainer" / "versions.json")
    return sorted({f"{pin.line}t" for pin in versions.all_pins()})


def test_nox_lists_sessions_and_the_build_matrix() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-l"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = _free_threaded_lines()
    assert {"3.13t", "3.14t", "3.15t"} <= set(lines)
    for session in (
        "tests",
        "lint",
        *(f"{name}-{line}" for name in ("freethreaded", "compat", "servers") for line in lines),
        "stack(image='devcontainer', profile='offline')",
        "stack(image='fetch', profile='online')",
    ):
        assert session in result.stdout, session
    # mutation testing takes hours: listed, but not run by a plain `nox`
    assert "\n- mutants -> " in result.stdout and "\n* mutants" not in result.stdout


def test_an_image_the_profile_cannot_provide_is_skipped_with_the_reason() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "stack(image='runner', profile='offline')"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "skipped:" in said and "successful" not in said
    assert "runner cannot be built with profile offline" in said or "selects profile" in said


def test_listing_the_sessions_loads_neither_invoke_nor_the_task_modules() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "nox", "-l"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = {line.rpartition("|")[2].strip() for line in result.stderr.splitlines()}
    assert "invoke" not in loaded and "tasks.namespace" not in loaded
    assert "tasks.images.plan" in loaded
