"""Phases 1-11 on a legacy repository: the target layout, one commit per phase, history that
follows the moved files, idempotence, dry runs, hand-edit conflicts and resumption."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import json5
import pytest
import yaml
from invoke.context import Context

from tasks import phase_tasks
from tasks.model.envfile import parse_env_text
from tasks.phases import legacy
from tasks.phases.catalog import build_phases, template_manifests
from tasks.phases.gitrepo import GitRepo
from tasks.phases.runner import run_phase
from tasks.phases.steps import CopyFiles, EnvFile, JsonKeys
from tasks.phases.workspace import TEMPLATE_PATHS, Workspace
from tests.clirun import REPO, invoke
from tests.legacy_fixture import build_legacy_repo, git

MESSAGES = [
    "refactor: reorganize MCP servers and containers into .devcontainer structure",
    "feat: add BuildKit daemon, GitHub runner, and monitoring stack",
    "feat: upgrade to Python 3.14.0 free-threaded base image",
    "feat: configure MCP servers with stdio transport in devcontainer.json",
    "refactor: update docker-compose for infrastructure services only",
    "feat: add build automation script for MCP cluster",
    "docs: update architecture and services documentation",
    "chore: update devcontainer.env for infrastructure services",
    "chore: remove old MCP server files from .github",
]
MERGED = {
    ".devcontainer/devcontainer.json",
    ".devcontainer/devcontainer.env",
}


def phase(root: Path, number: int, *flags: str) -> subprocess.CompletedProcess[str]:
    return invoke("phase", str(number), "--root", str(root), *flags)


def phase_json(root: Path, number: int, *flags: str) -> dict[str, Any]:
    result = phase(root, number, *flags, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def subjects(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts[:1]
    }


OUTPUTS: dict[int, str] = {}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_legacy_repo(tmp_path_factory.mktemp("legacy") / "repo")
    for number in range(1, 12):
        result = phase(root, number, "--commit")
        assert result.returncode == 0, f"phase {number}: {result.stdout}{result.stderr}"
        OUTPUTS[number] = result.stdout
    return root


def test_moved_secrets_are_readable_by_their_owner_only(migrated: Path) -> None:
    secrets = migrated / ".devcontainer/.env"
    assert secrets.is_file() and secrets.stat().st_mode & 0o777 == 0o600


def test_nothing_outside_the_repository_is_touched(migrated: Path) -> None:
    assert [p.name for p in migrated.parent.iterdir()] == ["repo"]


def test_phases_tell_what_the_user_must_do(migrated: Path) -> None:
    assert "rotate them" in OUTPUTS[9] and "GITHUB_TOKEN" in OUTPUTS[9]
    assert "kept .github/services/sqlite/Dockerfile" in OUTPUTS[11]
    assert "git mv .github/services/git/config/git.yml" in OUTPUTS[2]


@pytest.fixture
def legacy_repo(tmp_path: Path) -> Path:
    return build_legacy_repo(tmp_path / "repo")


def test_one_commit_per_phase_with_the_plan_messages_and_the_users_identity(
    migrated: Path,
) -> None:
    log = subjects(migrated)
    assert log[: len(MESSAGES)] == list(reversed(MESSAGES))
    assert len(log) == len(MESSAGES) + 3
    authors = set(git(migrated, "log", "-9", "--format=%an <%ae>").splitlines())
    assert authors == {"Ada Dev <ada@example.com>"}
    assert git(migrated, "status", "--porcelain") == ""


def test_the_tree_is_the_target_layout(migrated: Path) -> None:
    template = GitRepo(REPO).tracked_many(TEMPLATE_PATHS)
    for path in template:
        if path not in MERGED:
            assert (migrated / path).read_bytes() == (REPO / path).read_bytes(), path
    assert not (migrated / ".github/services/fetch").exists()
    assert sorted(git(migrated, "ls-files", ".github").split()) == [
        ".github/services/sqlite/Dockerfile",
        ".github/services/sqlite/README.md",
        ".github/services/sqlite/config/sqlite.yml",
    ]
    for old in legacy.OLD_FILES:
        assert not (migrated / old).exists()
    dockerfiles = {str(p.relative_to(migrated)) for p in migrated.rglob("Dockerfile")}
    legacy_left = {p for p in dockerfiles if p.startswith(".github/")}
    assert dockerfiles - legacy_left <= set(template), "a Dockerfile the target layout lacks"
    assert ".devcontainer/containers/python-experimental/Dockerfile" not in git(
        migrated, "ls-files"
    )
    compose = yaml.safe_load((migrated / ".devcontainer/docker-compose.mcp.yml").read_text())
    stdio = {m.name for m in template_manifests(REPO) if m.transport == "stdio"}
    assert stdio and not stdio & set(compose["services"])


def test_devcontainer_json_is_merged_not_replaced(migrated: Path) -> None:
    data = json5.loads((migrated / ".devcontainer/devcontainer.json").read_text())
    wanted = json5.loads((REPO / ".devcontainer/devcontainer.json").read_text())
    assert "image" not in data and "features" not in data
    assert data["service"] == "devcontainer"
    assert data["customizations"]["vscode"]["extensions"] == ["dbaeumer.vscode-eslint"]
    assert (
        data["customizations"]["vscode"]["mcp"]["servers"]
        == wanted["customizations"]["vscode"]["mcp"]["servers"]
    )


def test_env_file_gains_the_plan_variables_and_keeps_the_users(migrated: Path) -> None:
    path = migrated / ".devcontainer/devcontainer.env"
    values = parse_env_text(path.read_text(), path).as_dict()
    template = parse_env_text((REPO / ".devcontainer/devcontainer.env").read_text(), path)
    assert set(template.as_dict()) <= set(values)
    assert values["TEAM_CHANNEL"] == "dev-env"
    for gone in (*legacy.REMOVED_VARIABLES, "GITHUB_TOKEN"):
        assert gone not in values
    secrets = (migrated / ".devcontainer/.env").read_text()
    assert "GITHUB_TOKEN=ghp_fixturetoken" in secrets
    assert git(migrated, "check-ignore", ".devcontainer/.env").strip() == ".devcontainer/.env"


def test_history_follows_the_moved_files(migrated: Path) -> None:
    log = git(
        migrated, "log", "--follow", "--format=%s", "--", ".devcontainer/mcp/fetch/Dockerfile"
    )
    assert "fetch on Python; start copying memory docs" in log
    assert "MCP services under .github/services" in log


def test_running_every_phase_again_changes_nothing(migrated: Path) -> None:
    before = (subjects(migrated), snapshot(migrated))
    for number in range(1, 12):
        outcome = phase_json(migrated, number, "--commit")
        assert outcome["changes"] == [] and outcome["commit"] is None, number
    assert (subjects(migrated), snapshot(migrated)) == before


def test_status_of_a_migrated_repository(migrated: Path) -> None:
    result = invoke("phase.status", "--root", str(migrated), "--json")
    data = json.loads(result.stdout)
    assert all(data[str(n)]["done"] for n in range(1, 12))
    assert "invoke phase 12" in data["12"]["steps"][0]["reason"] or data["12"]["done"]
    stack = data["10"]["steps"][-1]
    assert stack["state"] in {"not exercised", "done"}, stack


def test_dry_run_shows_the_changes_and_changes_nothing(legacy_repo: Path) -> None:
    before = (snapshot(legacy_repo), git(legacy_repo, "status", "--porcelain"))
    outcome = phase_json(legacy_repo, 2, "--dry-run", "--commit")
    assert (
        "git mv .github/services/fetch/Dockerfile .devcontainer/mcp/fetch/Dockerfile"
        in (outcome["changes"])
    )
    assert (snapshot(legacy_repo), git(legacy_repo, "status", "--porcelain")) == before
    assert phase(legacy_repo, 2, "--commit").returncode == 0
    shown = phase(legacy_repo, 3, "--dry-run")
    assert "+++ b/.devcontainer/containers/buildx/Dockerfile" in shown.stdout
    assert not (legacy_repo / ".devcontainer/containers/buildx/Dockerfile").exists()


def test_an_uncommitted_hand_edit_stops_the_phase(legacy_repo: Path) -> None:
    for number in (1, 2, 3):
        assert phase(legacy_repo, number, "--commit").returncode == 0
    dockerfile = legacy_repo / ".devcontainer/Dockerfile"
    dockerfile.write_text("FROM node:22\nRUN echo my tweak\n")
    settings = legacy_repo / ".devcontainer/devcontainer.json"
    settings.write_text(settings.read_text().replace('"name"', '"runArgs": ["--init"],\n  "name"'))
    result = phase(legacy_repo, 4, "--commit")
    assert result.returncode == 2
    assert ".devcontainer/Dockerfile" in result.stderr and "not committed" in result.stderr
    assert "my tweak" in dockerfile.read_text()
    assert '"image"' in settings.read_text()
    git(legacy_repo, "commit", "--quiet", "-am", "my tweaks")
    assert phase(legacy_repo, 4, "--commit").returncode == 0
    assert "--init" in settings.read_text() and '"image"' not in settings.read_text()
    assert "my tweak" in git(legacy_repo, "show", "HEAD~1:.devcontainer/Dockerfile")


def test_a_service_the_plan_does_not_know_stops_the_compose_rewrite(legacy_repo: Path) -> None:
    compose = legacy_repo / ".devcontainer/docker-compose.mcp.yml"
    compose.write_text(compose.read_text().replace("services:\n", "services:\n  redis: {}\n", 1))
    git(legacy_repo, "commit", "--quiet", "-am", "add redis")
    for number in range(1, 6):
        assert phase(legacy_repo, number, "--commit").returncode == 0
    result = phase(legacy_repo, 6, "--commit")
    assert result.returncode == 2
    assert "services.redis" in result.stderr and "docker-compose.mcp.yml" in result.stderr
    assert "redis" in compose.read_text()


def test_an_interrupted_phase_resumes(legacy_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(legacy_repo, REPO)
    moves = 0
    real_move = GitRepo.move

    def interrupted_move(self: GitRepo, source: str, target: str) -> None:
        nonlocal moves
        moves += 1
        if moves == 6:
            raise KeyboardInterrupt
        real_move(self, source, target)

    monkeypatch.setattr(GitRepo, "move", interrupted_move)
    with pytest.raises(KeyboardInterrupt):
        run_phase(ws, build_phases(REPO)[2], dry_run=False, commit=True, say=lambda _: None)
    monkeypatch.undo()
    assert phase(legacy_repo, 3).returncode == 2
    result = phase(legacy_repo, 2, "--commit")
    assert result.returncode == 0 and "resuming" in result.stdout
    assert subjects(legacy_repo)[0] == MESSAGES[0]
    renamed = git(legacy_repo, "show", "--format=", "--name-status", "-M", "HEAD").splitlines()
    assert (
        len([line for line in renamed if line.startswith("R100")]) == 26
    )  # 9 services x 3, one copied earlier
    assert all(line.startswith("R100") for line in renamed), renamed
    assert phase_json(legacy_repo, 2)["changes"] == []


def test_commit_refuses_unrelated_staged_changes(legacy_repo: Path) -> None:
    (legacy_repo / "README.md").write_text("# changed\n")
    git(legacy_repo, "add", "README.md")
    result = phase(legacy_repo, 2, "--commit")
    assert result.returncode == 2 and "README.md" in result.stderr
    assert (legacy_repo / ".github/services/fetch/Dockerfile").exists()


def test_commit_needs_a_git_identity(legacy_repo: Path) -> None:
    git(legacy_repo, "config", "--unset", "user.name")
    git(legacy_repo, "config", "--unset", "user.email")
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "phase", "2", "--commit", "--root", str(legacy_repo)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(legacy_repo),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "user.useConfigOnly",
            "GIT_CONFIG_VALUE_0": "true",
        },
        check=False,
    )
    assert result.returncode == 2 and "git config user.email" in result.stderr


def test_phases_run_in_order(legacy_repo: Path) -> None:
    result = phase(legacy_repo, 6)
    assert result.returncode == 2 and "phase 6 needs phase 2 first" in result.stderr


@pytest.mark.parametrize("number", ["0", "13", "six"])
def test_an_unknown_phase_is_refused(number: str) -> None:
    result = invoke("phase", number)
    assert result.returncode == 2 and "phases 1 to 12" in result.stderr


def test_a_folder_that_is_not_a_repository_is_refused(tmp_path: Path) -> None:
    result = phase(tmp_path, 1)
    assert result.returncode == 2 and "git work tree" in result.stderr


def test_every_template_file_belongs_to_exactly_one_phase() -> None:
    ws = Workspace.open(REPO, REPO)
    owners: dict[str, list[int]] = {}
    for number, item in build_phases(REPO).items():
        for step in item.steps:
            if isinstance(step, (CopyFiles, JsonKeys, EnvFile)):
                for path in step.paths(ws):
                    owners.setdefault(path, []).append(number)
    for path in ws.template_files:
        expected = 2 if path == ".devcontainer/devcontainer.json" else 1
        assert len(owners.get(path, [])) == expected, (path, owners.get(path))


def test_phase_12_is_the_performance_report(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(
        "tasks.perf.run.run_perf",
        lambda profile, **options: calls.append({"profile": profile, **options}),
    )
    phase_tasks.phase_run(Context(), "12", profile="offline")
    assert calls == [{"profile": "offline", "cold": False, "repeat": 3, "out": "", "json": False}]


def test_phase_12_refuses_another_root(tmp_path: Path) -> None:
    result = phase(tmp_path, 12)
    assert result.returncode == 2 and "drop --root" in result.stderr


def test_status_reports_an_unreadable_stack_as_blocked(legacy_repo: Path) -> None:
    (legacy_repo / ".devcontainer/docker-compose.mcp.yml").write_text("services: [unclosed\n")
    result = invoke("phase.status", "--root", str(legacy_repo), "--json")
    assert result.returncode == 0, result.stderr
    steps = {s["step"]: s for s in json.loads(result.stdout)["10"]["steps"]}
    assert steps["verify the running stack (health)"]["state"] == "blocked"
    assert "docker-compose.mcp.yml" in steps["verify the running stack (health)"]["reason"]
