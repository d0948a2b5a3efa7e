"""Run a phase: its order, its conflicts, volume backups, resumption and its commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tasks.engine.client import docker_client
from tasks.errors import EngineUnreachable, StackError
from tasks.phases.backup import back_up_if_running
from tasks.phases.catalog import COMPOSE, Phase
from tasks.phases.steps import BLOCKED, DONE, NOT_EXERCISED, PENDING, Step, StepStatus
from tasks.phases.workspace import Workspace

Say = Callable[[str], None]


@dataclass
class Outcome:
    """What a run of one phase did."""

    phase: int
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    commit: str | None = None
    resumed: bool = False


def step_statuses(ws: Workspace, phase: Phase) -> list[tuple[Step, StepStatus]]:
    """Each step of `phase` with where it stands."""
    return [(step, step.status(ws)) for step in phase.steps]


def is_done(statuses: list[tuple[Step, StepStatus]]) -> bool:
    """A phase is done when no step is pending or blocked."""
    return all(status.state in (DONE, NOT_EXERCISED) for _, status in statuses)


def require_earlier(ws: Workspace, phases: dict[int, Phase], number: int) -> None:
    """Stop unless every earlier phase is done, naming the first one that is not."""
    for earlier in sorted(n for n in phases if n < number):
        for step, status in step_statuses(ws, phases[earlier]):
            if status.state in (PENDING, BLOCKED):
                raise StackError(
                    ws.root,
                    f"phase {number} needs phase {earlier} first: {step.title} is "
                    f"{status.state} ({status.reason})",
                    f"run `invoke phase {earlier}`",
                )


def phase_paths(ws: Workspace, phase: Phase) -> list[str]:
    """Every file the phase owns: what `--commit` stages."""
    return sorted({path for step in phase.steps for path in step.paths(ws)})


def _refuse_unrelated(ws: Workspace, paths: list[str]) -> None:
    unrelated = sorted(set(ws.git.staged()) - set(paths))
    if unrelated:
        raise StackError(
            ws.root / unrelated[0],
            f"is staged but does not belong to this phase ({len(unrelated)} such path(s))",
            "commit or unstage it (`git restore --staged PATH`) before `--commit`",
        )


def _back_up(ws: Workspace, say: Say) -> str:
    compose = ws.root / COMPOSE
    if not compose.is_file():
        return "no compose file yet: no volume to back up"
    try:
        saved = back_up_if_running(docker_client(), compose, ws.template_bytes(COMPOSE), ws.root)
    except EngineUnreachable as error:
        return f"volumes not backed up: {error.problem} (with no engine, no service runs)"
    if saved is None:
        return "no running service owns a volume this phase changes: no backup needed"
    say(f"backed up the volumes of the changed services to {saved.relative_to(ws.root)}")
    return f"volumes backed up to {saved.relative_to(ws.root)}"


def run_phase(ws: Workspace, phase: Phase, dry_run: bool, commit: bool, say: Say) -> Outcome:
    """Bring `phase` to done (or show what that would change, with `dry_run`)."""
    outcome = Outcome(phase.number)
    paths = phase_paths(ws, phase)
    if commit and phase.message and not dry_run:
        ws.git.identity()
        _refuse_unrelated(ws, paths)
    if dry_run:
        for step in phase.steps:
            for action in step.actions(ws):
                outcome.changes.append(action.description)
                if action.diff:
                    outcome.diffs.append(action.diff)
        return outcome
    # A failed backup stops the phase before it changes anything (or counts as begun).
    if phase.backs_up_volumes:
        outcome.notes.append(_back_up(ws, say))
    unfinished = ws.state.begin(phase.number)
    if unfinished is not None:
        outcome.resumed = True
        say(f"resuming: phase {unfinished} was interrupted; its finished steps are kept")
    for step in phase.steps:
        for action in step.actions(ws):
            say(action.description)
            action.run()
            outcome.changes.append(action.description)
        status = step.status(ws)
        if status.state == BLOCKED:
            raise StackError(ws.root, f"{step.title}: {status.reason}", "fix it and run again")
        if status.state == NOT_EXERCISED:
            outcome.notes.append(f"{step.title}: not exercised ({status.reason})")
        outcome.notes += step.notes(ws)
    ws.state.finish()
    if commit and phase.message:
        outcome.commit = ws.git.commit(paths, phase.message)
    return outcome
