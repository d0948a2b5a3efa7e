"""The unit tier cannot reach a Docker engine, so a live stack cannot sway or suffer from it."""

from __future__ import annotations

import os
import subprocess

from tests.clirun import invoke
from tests.conftest import DEAD_ENGINE


def test_unit_tests_see_a_dead_engine() -> None:
    assert os.environ["DOCKER_HOST"] == DEAD_ENGINE
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    assert info.returncode != 0


def test_tasks_run_from_unit_tests_fail_cleanly_without_an_engine() -> None:
    result = invoke("stack.ps", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
