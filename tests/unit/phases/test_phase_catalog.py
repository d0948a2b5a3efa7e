"""The plan's phases as `invoke phase N` runs them: titles, commit messages, which
step owns which files, and what each step sets or removes."""

from __future__ import annotations

from tasks.phases import legacy
from tasks.phases.catalog import build_phases, template_manifests
from tasks.phases.checks import (
    RecognizeLayout,
    RemoveMovedSources,
    RemoveOldFiles,
    StaticAudit,
    VerifyMoves,
    VerifyStack,
)
from tasks.phases.steps import ComposeFile, CopyFiles, EnvFile, Folders, JsonKeys, MoveService
from tasks.servers.generate import client_manifests
from tests.clirun import REPO

DC = ".devcontainer"

PHASES = {
    1: ("Research & validation", None, False),
    2: (
        "Folder structure reorganization",
        "refactor: reorganize MCP servers and containers into .devcontainer structure",
        False,
    ),
    3: (
        "New container definitions",
        "feat: add BuildKit daemon, GitHub runner, and monitoring stack",
        False,
    ),
    4: (
        "DevContainer base image (free-threaded Python)",
        "feat: upgrade to Python 3.14.0 free-threaded base image",
        False,
    ),
    5: (
        "MCP server stdio configuration",
        "feat: configure MCP servers with stdio transport in devcontainer.json",
        False,
    ),
    6: (
        "Docker Compose refactoring",
        "refactor: update docker-compose for infrastructure services only",
        True,
    ),
    7: ("Build automation script", "feat: add build automation script for MCP cluster", False),
    8: ("Documentation updates", "docs: update architecture and services documentation", False),
    9: (
        "Environment variables",
        "chore: update devcontainer.env for infrastructure services",
        False,
    ),
    10: ("Testing & verification", None, False),
    11: ("Cleanup", "chore: remove old MCP server files from .github", False),
}


def test_phases_titles_messages_and_backups() -> None:
    phases = build_phases(REPO)
    assert {n: (p.title, p.message, p.backs_up_volumes) for n, p in phases.items()} == PHASES
    assert all(p.number == n for n, p in phases.items())
    assert all(step.phase == n for n, p in phases.items() for step in p.steps)


def test_each_phase_has_its_steps() -> None:
    phases = build_phases(REPO)
    names = [m.name for m in client_manifests(template_manifests(REPO))]
    assert names and "bridge" not in names
    steps = {n: [(type(s), s.title) for s in p.steps] for n, p in phases.items()}
    assert steps[1] == [(RecognizeLayout, "recognize the starting layout")]
    assert steps[2] == [(Folders, "create the target folders")] + [
        (MoveService, f"move .github/services/{name}/ to {target}/")
        for name, target in legacy.MOVES.items()
    ]
    assert steps[3] == [(CopyFiles, "add the buildx, runner and monitoring definitions")]
    assert steps[4] == [
        (CopyFiles, "rewrite the devcontainer and python-experimental images"),
        (JsonKeys, "point devcontainer.json at the compose service"),
    ]
    assert steps[5] == [
        (CopyFiles, "update the MCP servers' images and manifests, and the launcher"),
        (JsonKeys, "add the MCP servers to devcontainer.json"),
        (JsonKeys, "add the MCP servers to .vscode/mcp.json"),
        (JsonKeys, "add the MCP servers to .mcp.json"),
    ]
    assert steps[6] == [
        (ComposeFile, "rewrite the compose file"),
        (CopyFiles, "update the containers moved from the legacy layout (databases, GPU)"),
        (CopyFiles, "add the offline profile"),
    ]
    assert steps[7] == [(CopyFiles, "add the build script")]
    assert steps[8] == [(CopyFiles, "write the docs")]
    assert steps[9] == [
        (CopyFiles, "ignore local secrets"),
        (EnvFile, "update the environment file"),
    ]
    assert steps[10] == [
        (StaticAudit, "static audit of the new layout (invoke check)"),
        (VerifyMoves, "verify the moved files"),
        (VerifyStack, "verify the running stack (health)"),
    ]
    assert steps[11] == [
        (RemoveMovedSources, "remove the moved files left in .github/services/"),
        (RemoveOldFiles, "remove the old devcontainer files"),
    ]


def test_what_each_step_owns_sets_and_removes() -> None:
    phases = build_phases(REPO)
    names = [m.name for m in client_manifests(template_manifests(REPO))]
    folders = phases[2].steps[0]
    assert isinstance(folders, Folders) and folders.folders == legacy.FOLDERS
    prefixes = {
        (n, i): s.prefixes
        for n, p in phases.items()
        for i, s in enumerate(p.steps)
        if isinstance(s, CopyFiles)
    }
    assert prefixes == {
        (3, 0): tuple(f"{DC}/containers/{n}/" for n in ("buildx", "runner", "monitoring")),
        (4, 0): (
            f"{DC}/Dockerfile",
            f"{DC}/.dockerignore",
            f"{DC}/versions.json",
            f"{DC}/scripts/devcontainer-entrypoint.sh",
            f"{DC}/cpython/",
        ),
        (5, 0): (
            *(f"{DC}/mcp/{m.folder_name}/" for m in template_manifests(REPO)),
            f"{DC}/mcp/runtime/",
            ".mcpignore",
        ),
        (6, 0): (f"{DC}/docker-compose.mcp.yml",),
        (6, 1): tuple(
            f"{DC}/containers/{n}/"
            for n in ("k8s-plugin", "mariadb", "postgres", "python-experimental")
        ),
        (6, 2): (f"{DC}/offline/", f"{DC}/profiles/"),
        (7, 0): (f"{DC}/scripts/build-mcp.ps1",),
        (8, 0): (f"{DC}/docs/",),
        (9, 0): (f"{DC}/.gitignore", f"{DC}/.env.example"),
    }
    keys = {
        (n, i): (s.path, s.set_keys, s.remove_keys)
        for n, p in phases.items()
        for i, s in enumerate(p.steps)
        if isinstance(s, JsonKeys)
    }
    assert keys == {
        (4, 1): (
            f"{DC}/devcontainer.json",
            tuple(
                (k,)
                for k in (
                    "name",
                    "dockerComposeFile",
                    "service",
                    "workspaceFolder",
                    "shutdownAction",
                    "remoteUser",
                    "remoteEnv",
                    "postCreateCommand",
                )
            ),
            (("image",), ("features",), ("build",), ("dockerFile",), ("context",)),
        ),
        (5, 1): (
            f"{DC}/devcontainer.json",
            tuple(("customizations", "vscode", "mcp", "servers", n) for n in names),
            (("mcpServers",),),
        ),
        (5, 2): (".vscode/mcp.json", tuple(("servers", n) for n in names), ()),
        (5, 3): (".mcp.json", tuple(("mcpServers", n) for n in names), ()),
    }
    env = phases[9].steps[1]
    assert isinstance(env, EnvFile)
    assert (env.path, env.secrets_path, env.removed) == (
        f"{DC}/devcontainer.env",
        f"{DC}/.env",
        legacy.REMOVED_VARIABLES,
    )
