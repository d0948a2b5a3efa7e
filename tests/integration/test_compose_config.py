"""`docker compose config` accepts the compose files as users run them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tasks.model.envquote import env_line
from tasks.phases.envmerge import merge_env
from tests.clirun import REPO
from tests.unit.model.test_envquote import FORMS

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


def _compose_reads(folder: Path, env_file: str) -> dict[str, str]:
    """The environment compose gives a service from `env_file` (its `$$` escapes undone)."""
    (folder / "compose.yml").write_text(
        f"services:\n  app:\n    image: scratch\n    env_file: [{env_file}]\n"
    )
    result = subprocess.run(
        ["docker", "compose", "-f", str(folder / "compose.yml"), "config", "--format", "json"],
        capture_output=True, text=True, check=False, cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout)["services"]["app"]["environment"]
    return {key: value.replace("$$", "$") for key, value in environment.items()}


def test_moved_secrets_read_the_same_to_compose_before_and_after(tmp_path: Path) -> None:
    """Each secret as a user may have written it in the committed env file; once moved into
    .env, compose reads exactly the value it read before."""
    committed = (
        "POSTGRES_PASSWORD='pa$$w0rd'\n"
        "MARIADB_ROOT_PASSWORD='\"s3cret #1\"'\n"
        "MARIADB_PASSWORD=a'b\"c\n"
        'GITHUB_TOKEN="back\\\\slash \\"quoted\\" $$x"\n'
        "GRAFANA_ADMIN_PASSWORD='  spaced  '\n"
        "GITHUB_RUNNER_TOKEN=x#y\n"
        "RUNNER_TOKEN=ünï cödé ✓\n"
        "OTHER=plain\n"
    )
    (tmp_path / "devcontainer.env").write_text(committed)
    before = _compose_reads(tmp_path, "devcontainer.env")
    merged = merge_env(committed, "OTHER=1\n", (), tuple(before), tmp_path / "devcontainer.env")
    assert set(merged.secrets) == set(before)
    (tmp_path / ".env").write_text(
        "".join(f"{env_line(k, v)}\n" for k, v in merged.secrets.items())
    )
    assert _compose_reads(tmp_path, ".env") == before
    assert before["POSTGRES_PASSWORD"] == "pa$$w0rd" and before["GITHUB_RUNNER_TOKEN"] == "x#y"


@pytest.mark.parametrize(("value", "written"), FORMS)
def test_each_written_value_round_trips_through_compose(
    tmp_path: Path, value: str, written: str
) -> None:
    (tmp_path / "values.env").write_text(f"{env_line('K', value)}\nL=1\n")
    assert _compose_reads(tmp_path, "values.env") == {"K": value, "L": "1"}
