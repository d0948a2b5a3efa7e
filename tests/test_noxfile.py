"""The Nox sessions users call, and the build matrix read from the stack."""

from __future__ import annotations

import subprocess
import sys

from tests.clirun import REPO


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
    for session in (
        "tests",
        "lint",
        "freethreaded-3.14t",
        "freethreaded-3.13t",
        "compat-3.14t",
        "compat-3.13t",
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
