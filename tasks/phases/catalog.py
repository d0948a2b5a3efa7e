"""The twelve phases of the plan, each a list of steps and the commit message it ends with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.model.manifest import McpManifest, load_manifests
from tasks.model.source import load_json, present
from tasks.model.stack import interpolation_env
from tasks.phases import legacy
from tasks.phases.checks import (
    RecognizeLayout,
    RemoveMovedSources,
    RemoveOldFiles,
    StaticAudit,
    VerifyMoves,
    VerifyStack,
)
from tasks.phases.steps import (
    DONE,
    PENDING,
    ComposeFile,
    CopyFiles,
    EnvFile,
    Folders,
    JsonKeys,
    MoveService,
    Step,
    StepStatus,
)
from tasks.servers.generate import client_manifests

DC = ".devcontainer"
DEVCONTAINER_JSON = f"{DC}/devcontainer.json"
COMPOSE = f"{DC}/docker-compose.mcp.yml"
REPORT_PHASE = 12


def report_status(repo: Path) -> StepStatus:
    """Phase 12 is done once `invoke perf` has written its report in `repo`."""
    from tasks.perf.report import REPORT_DIR

    report = repo / REPORT_DIR / "report.json"
    if not present(report):
        return StepStatus(PENDING, "no report yet: run `invoke phase 12`")
    data = load_json(report, "performance report", "run `invoke phase 12` again").data
    machine = data.get("machine") if isinstance(data, dict) else None
    measured = machine.get("measured_at") if isinstance(machine, dict) else None
    if measured is None:
        return StepStatus(PENDING, f"{report.relative_to(repo)} has no date: run `invoke phase 12`")
    return StepStatus(DONE, f"{report.relative_to(repo)}, measured {measured}")


@dataclass(frozen=True)
class Phase:
    """One phase: its steps run in order; `message` commits its paths (None: nothing to commit)."""

    number: int
    title: str
    message: str | None
    steps: tuple[Step, ...]
    backs_up_volumes: bool = False

    def __post_init__(self) -> None:
        for step in self.steps:
            step.phase = self.number


def template_manifests(template: Path) -> list[McpManifest]:
    """Every manifest of the template (`mcp/<name>/config/`), by name."""
    folder = template / DC
    return sorted(load_manifests(folder, interpolation_env(folder)).values(), key=lambda m: m.name)


def _servers(file: str, names: list[str], *prefix: str) -> JsonKeys:
    keys = tuple((*prefix, name) for name in names)
    return JsonKeys(f"add the MCP servers to {file}", file, keys)


def build_phases(template: Path) -> dict[int, Phase]:
    """Phases 1 to 11 of the repository `template` converges to (phase 12 measures, see
    tasks.perf); bad manifests in the template raise `StackError`."""
    manifests = template_manifests(template)
    names = [m.name for m in client_manifests(manifests)]
    # Every server's folder (the bridge's too), the launcher and relay they share, and the
    # workspace paths no server may see.
    mcp = (
        *(f"{DC}/mcp/{m.folder_name}/" for m in manifests),
        f"{DC}/mcp/runtime/",
        ".mcpignore",
    )
    phases = [
        Phase(1, "Research & validation", None, (RecognizeLayout(),)),
        Phase(
            2,
            "Folder structure reorganization",
            "refactor: reorganize MCP servers and containers into .devcontainer structure",
            (Folders(legacy.FOLDERS), *(MoveService(name) for name in legacy.MOVES)),
        ),
        Phase(
            3,
            "New container definitions",
            "feat: add BuildKit daemon, GitHub runner, and monitoring stack",
            (
                CopyFiles(
                    "add the buildx, runner and monitoring definitions",
                    tuple(f"{DC}/containers/{n}/" for n in ("buildx", "runner", "monitoring")),
                ),
            ),
        ),
        Phase(
            4,
            "DevContainer base image (free-threaded Python)",
            "feat: upgrade to Python 3.14.0 free-threaded base image",
            (
                CopyFiles(
                    "rewrite the devcontainer and python-experimental images",
                    (
                        f"{DC}/Dockerfile",
                        f"{DC}/.dockerignore",
                        f"{DC}/versions.json",
                        f"{DC}/scripts/devcontainer-entrypoint.sh",
                        f"{DC}/cpython/",
                    ),
                    # python-experimental is now a target of the dev container's Dockerfile.
                    retired=(f"{DC}/containers/python-experimental/Dockerfile",),
                ),
                JsonKeys(
                    "point devcontainer.json at the compose service",
                    DEVCONTAINER_JSON,
                    tuple(
                        (key,)
                        for key in (
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
            ),
        ),
        Phase(
            5,
            "MCP server stdio configuration",
            "feat: configure MCP servers with stdio transport in devcontainer.json",
            (
                CopyFiles("update the MCP servers' images and manifests, and the launcher", mcp),
                JsonKeys(
                    "add the MCP servers to devcontainer.json",
                    DEVCONTAINER_JSON,
                    tuple(("customizations", "vscode", "mcp", "servers", name) for name in names),
                    (("mcpServers",),),
                ),
                _servers(".vscode/mcp.json", names, "servers"),
                _servers(".mcp.json", names, "mcpServers"),
            ),
        ),
        Phase(
            6,
            "Docker Compose refactoring",
            "refactor: update docker-compose for infrastructure services only",
            (
                ComposeFile("rewrite the compose file", (COMPOSE,)),
                CopyFiles(
                    "update the containers moved from the legacy layout (databases, GPU)",
                    tuple(
                        f"{t}/" for t in legacy.MOVES.values() if t.startswith(f"{DC}/containers/")
                    ),
                ),
                CopyFiles("add the offline profile", (f"{DC}/offline/", f"{DC}/profiles/")),
            ),
            backs_up_volumes=True,
        ),
        Phase(
            7,
            "Build automation script",
            "feat: add build automation script for MCP cluster",
            (CopyFiles("add the build script", (f"{DC}/scripts/build-mcp.ps1",)),),
        ),
        Phase(
            8,
            "Documentation updates",
            "docs: update architecture and services documentation",
            (CopyFiles("write the docs", (f"{DC}/docs/",)),),
        ),
        Phase(
            9,
            "Environment variables",
            "chore: update devcontainer.env for infrastructure services",
            (
                CopyFiles("ignore local secrets", (f"{DC}/.gitignore", f"{DC}/.env.example")),
                EnvFile(f"{DC}/devcontainer.env", f"{DC}/.env"),
            ),
        ),
        Phase(
            10,
            "Testing & verification",
            None,
            (StaticAudit(), VerifyMoves(), VerifyStack()),
        ),
        Phase(
            11,
            "Cleanup",
            "chore: remove old MCP server files from .github",
            (RemoveMovedSources(), RemoveOldFiles()),
        ),
    ]
    return {phase.number: phase for phase in phases}
