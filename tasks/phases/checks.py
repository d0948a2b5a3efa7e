"""Steps that verify (phases 1 and 10) and that clean up only what was verified (phase 11)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tasks.engine.client import docker_client
from tasks.engine.stack import running_containers
from tasks.engine.verify import FAIL, Check
from tasks.errors import EngineError, StackError
from tasks.model.stack import load_stack
from tasks.phases import legacy
from tasks.phases.gitrepo import blob_id
from tasks.phases.steps import BLOCKED, DONE, NOT_EXERCISED, Action, Step, StepStatus
from tasks.phases.workspace import Workspace
from tasks.rules.base import Severity
from tasks.rules.catalog import run_rules
from tasks.workflows.profile import Profiled


@dataclass
class RecognizeLayout(Step):
    """Phase 1: the repository holds the legacy layout or the target one."""

    title: str = "recognize the starting layout"

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        if not ws.template_files:
            raise StackError(
                ws.template,
                "holds no target layout (.devcontainer/, .vscode/mcp.json, .mcp.json)",
                "run the task library from a git clone, or from a complete copy of it",
            )
        if (ws.root / legacy.LEGACY_ROOT).is_dir() or (ws.root / ".devcontainer/mcp").is_dir():
            return []
        raise StackError(
            ws.root,
            f"has neither the legacy layout ({legacy.LEGACY_ROOT}/) nor the target one "
            "(.devcontainer/mcp/)",
            "run the phases in the repository of the dev environment",
        )


@dataclass
class StaticAudit(Step):
    """Phase 10: `invoke check` over the migrated layout finds no error."""

    title: str = "static audit of the new layout (invoke check)"

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        stack = load_stack(ws.root)
        failed = [f for f in run_rules(stack) if f.severity is Severity.ERROR]
        if failed:
            raise StackError(
                ws.root,
                f"the static audit finds {len(failed)} error(s), first {failed[0].rule} at "
                f"{failed[0].location}: {failed[0].message}",
                f"run `invoke check --root {ws.root}` and fix each finding",
            )
        return []


def moved_sources(ws: Workspace) -> dict[str, str]:
    """Legacy files still in place whose new home exists: source -> its content id."""
    found = {}
    for source in ws.git.tracked_many((legacy.LEGACY_ROOT,)):
        target = legacy.moved_to(source)
        data = ws.read(source)
        if target and data is not None and (ws.root / target).is_file():
            found[source] = blob_id(data)
    return found


@dataclass
class VerifyMoves(Step):
    """Phase 10: every legacy file has its new home, tracked by git; record what was checked."""

    title: str = "verify the moved files"

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        homeless = [
            s
            for s in ws.git.tracked_many((legacy.LEGACY_ROOT,))
            if (t := legacy.moved_to(s)) and not (ws.root / t).is_file()
        ]
        if homeless:
            raise StackError(
                ws.root / homeless[0],
                f"has no copy at {legacy.moved_to(homeless[0])}",
                "run phase 2 again",
            )
        verified = moved_sources(ws)
        if all(ws.state.verified.get(s) == content for s, content in verified.items()):
            return []

        def record() -> None:
            ws.state.verified.update(verified)
            ws.state.save()

        return [Action(f"record {len(verified)} verified leftover(s)", record)]


def health_verdict(checks: list[Check]) -> StepStatus:
    """Phase 10's verdict on the health checks: blocked by the first failure, else done."""
    failed = [c for c in checks if c.status == FAIL]
    if failed:
        return StepStatus(BLOCKED, f"{failed[0].name}: {failed[0].detail}")
    return StepStatus(DONE)


@dataclass
class VerifyStack(Step):
    """Phase 10: when the stack runs, its services are healthy (`invoke verify.health`)."""

    title: str = "verify the running stack (health)"

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        return []

    def status(self, ws: Workspace) -> StepStatus:  # noqa: D102
        try:
            stack = load_stack(ws.root)
        except StackError as error:
            return StepStatus(BLOCKED, error.render())
        project = stack.compose.project
        try:
            running = running_containers(docker_client(), project)
        except EngineError:
            return StepStatus(NOT_EXERCISED, "no Docker engine reachable")
        if not running:
            return StepStatus(
                NOT_EXERCISED,
                f"stack {project} is not running: `invoke stack.up`, then run phase 10 again",
            )
        return health_verdict(Profiled(stack, None, ()).verifier().health())


@dataclass
class RemoveMovedSources(Step):
    """Phase 11: `git rm` legacy leftovers whose new home phase 10 verified, unchanged since."""

    title: str = f"remove the moved files left in {legacy.LEGACY_ROOT}/"

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        return [p for p in ws.git.known(legacy.LEGACY_ROOT) if legacy.moved_to(p)]

    def notes(self, ws: Workspace) -> list[str]:  # noqa: D102
        kept = [p for p in ws.git.tracked_many((legacy.LEGACY_ROOT,)) if not legacy.moved_to(p)]
        return [
            f"kept {p}: the plan gives it no new home; move or delete it yourself" for p in kept
        ]

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        current = moved_sources(ws)
        unverified = [s for s, content in current.items() if ws.state.verified.get(s) != content]
        if unverified:
            raise StackError(
                ws.root / unverified[0],
                "changed since phase 10 verified it (or phase 10 has not run)",
                "run phase 10 again",
            )
        found = [Action(f"git rm {s}", partial(ws.git.remove, s)) for s in sorted(current)]
        if _empty_folders(ws) or current:
            found.append(
                Action(f"remove empty folders in {legacy.LEGACY_ROOT}/", lambda: _prune(ws))
            )
        return found


@dataclass
class RemoveOldFiles(Step):
    """Phase 11 (Cleanup): delete the old devcontainer files (committed ones only)."""

    title: str = "remove the old devcontainer files"

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        return list(legacy.OLD_FILES)

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        found = []
        for path in legacy.OLD_FILES:
            if ws.read(path) is not None:
                ws.ensure_replaceable(path, 11)
                found.append(Action(f"git rm {path}", partial(ws.git.remove, path)))
        return found


def _empty_folders(ws: Workspace) -> list[Path]:
    """Folders under the legacy root holding no file, deepest first (the root itself last)."""
    legacy_root = ws.root / legacy.LEGACY_ROOT
    if not legacy_root.is_dir():
        return []
    folders = [legacy_root, *(p for p in legacy_root.rglob("*") if p.is_dir())]
    folders.sort(key=lambda p: len(p.parts), reverse=True)
    return [f for f in folders if not any(p.is_file() for p in f.rglob("*"))]


def _prune(ws: Workspace) -> None:
    """Remove the empty folders left under the legacy root."""
    for folder in _empty_folders(ws):
        folder.rmdir()
