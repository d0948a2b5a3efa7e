"""The unit tier leaves a live stack alone: a container under the real project name, with the
real service name, runs through a whole unit-tier run and sees no engine event from it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.clirun import REPO
from tests.e2e.stackguard import docker, refuse_existing_stack
from tests.integration.tinystack import BASE

pytestmark = pytest.mark.integration
PROJECT = "mcp-cluster"
# The unit tier alone: CI's "every tier ran" rule is for the whole suite.
UNIT_ONLY = {k: v for k, v in os.environ.items() if k != "CI"}


@pytest.fixture
def live_stack(tmp_path: Path, seeded: None) -> Iterator[str]:
    """postgres-db of project mcp-cluster, running with data in a volume of its own."""
    refuse_existing_stack()
    volume = f"mcp-test-live-{uuid.uuid4().hex[:10]}"
    compose = tmp_path / "compose.yml"
    compose.write_text(
        yaml.safe_dump(
            {
                "name": PROJECT,
                "services": {
                    "postgres-db": {
                        "image": BASE,
                        "command": ["sh", "-c", "echo kept > /data/row && exec sleep infinity"],
                        "init": True,
                        "volumes": [f"{volume}:/data"],
                    }
                },
                "volumes": {volume: {"name": volume}},
            }
        )
    )
    files = ["compose", "-f", str(compose), "-p", PROJECT]
    try:
        started = docker(*files, "up", "-d", "--wait")
        assert started.returncode == 0, started.stderr
        yield docker(*files, "ps", "-q", "postgres-db").stdout.strip()
    finally:
        docker(*files, "down", "--volumes", "--timeout", "1")


def test_a_live_stack_is_unchanged_by_the_unit_tier(live_stack: str) -> None:
    before = docker("inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", live_stack).stdout
    since = f"{time.time():.6f}"
    unit = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
         "--ignore=tests/integration", "--ignore=tests/e2e"],
        cwd=REPO, env=UNIT_ONLY, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert unit.returncode == 0, unit.stdout[-3000:]
    events = docker(
        "events", "--since", since, "--until", str(int(time.time()) + 1),
        "--filter", f"container={live_stack}", "--format", "{{.Action}}",
    ).stdout.split()  # fmt: skip
    assert events == [], f"the unit tier acted on the live stack: {events}"
    after = docker("inspect", "-f", "{{.State.StartedAt}} {{.RestartCount}}", live_stack).stdout
    assert after == before
    assert docker("exec", live_stack, "cat", "/data/row").stdout.strip() == "kept"
