"""`docker compose config` accepts the compose files as users run them."""

from __future__ import annotations

import subprocess

import pytest

from tests.clirun import REPO

pytestmark = pytest.mark.integration
FOLDER = REPO / ".devcontainer"
COMPOSE = str(FOLDER / "docker-compose.mcp.yml")
PROFILES = [
    "--profile",
    "gpu",
    "--profile",
    "buildkit",
    "--profile",
    "runner",
    "--profile",
    "grafana",
]


@pytest.mark.parametrize(
    "options",
    [
        [],
        PROFILES,
        [
            "--env-file",
            str(FOLDER / "devcontainer.env"),
            "--env-file",
            str(FOLDER / "profiles/offline.env"),
            *PROFILES,
        ],
    ],
    ids=["plain", "all-profiles", "offline"],
)
def test_compose_config_accepts_the_stack(options: list[str]) -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", COMPOSE, *options, "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_tbc_compose_file_is_valid() -> None:
    result = subprocess.run(
        [
            "docker",
            "compose",
            "-f",
            str(FOLDER / "containers/TBC/docker-compose.tbc.yml"),
            "--profile",
            "grafana",
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
