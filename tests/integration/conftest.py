"""Integration tier: a real Docker engine with buildx and compose v2 is required."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clirun import invoke
from tests.integration.tinystack import TinyStack


def engine_available() -> bool:
    """True when `docker info` answers."""
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
        return result.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Integration tests need the engine: in CI its absence stops the run, elsewhere they skip."""
    needing = [i for i in items if "integration" in i.keywords or "e2e" in i.keywords]
    if not needing or engine_available():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            "no Docker engine answers `docker info`; CI provisions one with scripts/setup.sh --host"
        )
    for item in needing:
        item.add_marker(pytest.mark.skip(reason="no Docker engine (scripts/setup.sh --host)"))


@pytest.fixture(scope="session")
def seeded() -> None:
    """The offline stand-ins exist (seeded once; idempotent)."""
    result = invoke("build.seed", timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def tiny(tmp_path: Path, seeded: None) -> Iterator[TinyStack]:
    """A three-image stack on the Debian stand-in; its image tags are removed afterwards."""
    stack = TinyStack(tmp_path)
    yield stack
    stack.remove_images()
