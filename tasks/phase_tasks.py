"""`invoke phase N` and `invoke phase.status`: the plan's phases as idempotent steps."""

from __future__ import annotations

import json as jsonlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from tasks.helpflag import show_help_if_asked

if TYPE_CHECKING:
    from tasks.phases.steps import StepStatus
    from tasks.phases.workspace import Workspace

ROOT_HELP = "repository to migrate; default: this repository"


def _workspace(root: str) -> Workspace:
    from tasks.phases.workspace import Workspace
    from tasks.report import REPO_ROOT

    return Workspace.open(Path(root).resolve() if root else REPO_ROOT, REPO_ROOT)


@task(
    name="run",
    default=True,
    positional=["number"],
    help={
        "number": "the plan's phase, 1 to 12 (12 measures: see `invoke perf`)",
        "dry_run": "print what would change (a diff per edited file); change nothing",
        "commit": "commit the phase's own files with the plan's message (refuses unrelated staged "
        "changes)",
        "root": ROOT_HELP,
        "profile": "phase 12 only: as for `invoke perf` (e.g. offline)",
        "json": "print the outcome as JSON",
    },
)
def phase_run(
    c: Context,
    number: str,
    dry_run: bool = False,
    commit: bool = False,
    root: str = "",
    profile: str = "",
    json: bool = False,
) -> None:
    """Run one phase of the plan: `invoke phase 6`. Finished steps are skipped, so a phase can be
    re-run after an interruption and a finished phase changes nothing. A file with uncommitted
    hand edits is never overwritten: the phase stops and names it.
    """
    from rich.markup import escape

    from tasks.perf.run import run_perf
    from tasks.phases.catalog import REPORT_PHASE, build_phases
    from tasks.phases.runner import require_earlier, run_phase
    from tasks.report import EXIT_BAD_INPUT, REPO_ROOT, bad_input_exits, console, emit_json, errors

    show_help_if_asked(number, "phase")
    with bad_input_exits(json):
        phases = build_phases(REPO_ROOT)
    if not re.fullmatch(r"[0-9]+", number) or int(number) not in (*phases, REPORT_PHASE):
        errors.print(
            f"[red]error:[/] no phase {escape(number)!r}: the plan has phases 1 to {REPORT_PHASE}"
            " (e.g. `invoke phase 6`; `invoke phase.status` lists them)"
        )
        raise Exit(code=EXIT_BAD_INPUT)
    if int(number) == REPORT_PHASE:
        if root and Path(root).resolve() != REPO_ROOT:
            errors.print(
                "[red]error:[/] phase 12 measures the stack of this repository; drop --root"
            )
            raise Exit(code=EXIT_BAD_INPUT)
        run_perf(profile, cold=False, repeat=3, out="", json=json)
        return
    with bad_input_exits(json):
        ws = _workspace(root)
        require_earlier(ws, phases, int(number))
        phase = phases[int(number)]
        say = (lambda _: None) if json else (lambda text: console.print(f"  {escape(text)}"))
        if not json:
            console.print(f"[bold]phase {number}[/]: {phase.title}")
        outcome = run_phase(ws, phase, dry_run, commit, say)
    if json:
        emit_json({**outcome.__dict__, "dry_run": dry_run})
        return
    for text in outcome.diffs:
        console.print(escape(text), end="", soft_wrap=True, highlight=False)
    for note in outcome.notes:
        console.print(f"  [cyan]note:[/] {escape(note)}")
    verb = "would change" if dry_run else "changed"
    console.print(f"phase {number}: {verb} {len(outcome.changes)} thing(s)", end="")
    console.print(f"; committed {outcome.commit[:10]}" if outcome.commit else "")


@task(name="status", help={"root": ROOT_HELP, "json": "print JSON"})
def phase_status(c: Context, root: str = "", json: bool = False) -> None:
    """Show each phase and step as done, pending, blocked or not exercised, and why."""
    from rich.markup import escape
    from rich.table import Table

    from tasks.phases.catalog import REPORT_PHASE, build_phases
    from tasks.phases.runner import is_done, step_statuses
    from tasks.phases.steps import BLOCKED, DONE, NOT_EXERCISED, PENDING
    from tasks.report import bad_input_exits, console, emit_json

    style_of = {DONE: "green", PENDING: "yellow", BLOCKED: "bold red", NOT_EXERCISED: "cyan"}
    with bad_input_exits(json):
        ws = _workspace(root)
        phases = build_phases(ws.template)
        rows = {number: step_statuses(ws, phase) for number, phase in phases.items()}
    report = _report_status()
    if json:
        data = {
            str(n): {
                "done": is_done(s),
                "steps": [{"step": st.title, **vars(status)} for st, status in s],
            }
            for n, s in rows.items()
        }
        data[str(REPORT_PHASE)] = {"done": report.state == DONE, "steps": [vars(report)]}
        emit_json(data)
        return
    table = Table(title=f"phases of {ws.root}", title_justify="left")
    for column in ("phase", "step", "state", "why"):
        table.add_column(column, overflow="fold")
    for number, statuses in rows.items():
        for index, (step, status) in enumerate(statuses):
            style = style_of[status.state]
            table.add_row(
                str(number) if index == 0 else "",
                escape(step.title),
                f"[{style}]{status.state}[/]",
                escape(status.reason),
            )
    table.add_row(
        str(REPORT_PHASE),
        "measure and write the report (invoke perf)",
        f"[{style_of[report.state]}]{report.state}[/]",
        escape(report.reason),
    )
    console.print(table)


def _report_status() -> StepStatus:
    """Phase 12 is done once `invoke perf` has written its report."""
    from tasks.perf.report import REPORT_DIR
    from tasks.phases.steps import DONE, PENDING, StepStatus
    from tasks.report import REPO_ROOT

    report = REPO_ROOT / REPORT_DIR / "report.json"
    if not report.is_file():
        return StepStatus(PENDING, "no report yet: run `invoke phase 12`")
    measured = jsonlib.loads(report.read_text(encoding="utf-8"))["machine"]["measured_at"]
    return StepStatus(DONE, f"{report.relative_to(REPO_ROOT)}, measured {measured}")
