"""`invoke phase N` and `invoke phase.status`: the plan's phases as idempotent steps."""

from __future__ import annotations

import re
from pathlib import Path

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.errors import UsageError
from tasks.helpflag import show_help_if_asked
from tasks.outcome import Outcome

ROOT_HELP = "repository to migrate; default: this repository"


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
    from tasks.phases.workspace import Workspace
    from tasks.report import REPO_ROOT, console

    show_help_if_asked(number, "phase")
    phases = build_phases(REPO_ROOT)
    if not re.fullmatch(r"[0-9]+", number) or int(number) not in (*phases, REPORT_PHASE):
        raise UsageError(
            f"no phase {number!r}: the plan has phases 1 to {REPORT_PHASE} (e.g. `invoke phase "
            "6`; `invoke phase.status` lists them)"
        )
    if int(number) == REPORT_PHASE:
        if root and Path(root).resolve() != REPO_ROOT:
            raise UsageError("phase 12 measures the stack of this repository; drop --root")
        run_perf(profile, cold=False, repeat=3, out="", json=json)
        return
    ws = Workspace.for_option(root, REPO_ROOT)
    require_earlier(ws, phases, int(number))
    phase = phases[int(number)]
    say = (lambda _: None) if json else (lambda text: console.print(f"  {escape(text)}"))
    if not json:
        console.print(f"[bold]phase {number}[/]: {phase.title}")
    outcome = run_phase(ws, phase, dry_run, commit, say)
    verb = "would change" if dry_run else "changed"
    committed = f"; committed {outcome.commit[:10]}" if outcome.commit else ""
    views: list[object] = [escape(text.removesuffix("\n")) for text in outcome.diffs]
    views += [f"  [cyan]note:[/] {escape(note)}" for note in outcome.notes]
    views.append(f"phase {number}: {verb} {len(outcome.changes)} thing(s){committed}")
    present(Outcome({**outcome.__dict__, "dry_run": dry_run}, views), json)


@task(name="status", help={"root": ROOT_HELP, "json": "print JSON"})
def phase_status(c: Context, root: str = "", json: bool = False) -> None:
    """Show each phase and step as done, pending, blocked or not exercised, and why."""
    from rich.markup import escape

    from tasks.phases.catalog import REPORT_PHASE, build_phases, report_status
    from tasks.phases.runner import is_done, step_statuses
    from tasks.phases.steps import BLOCKED, DONE, NOT_EXERCISED, PENDING
    from tasks.phases.workspace import Workspace
    from tasks.report import REPO_ROOT

    style_of = {DONE: "green", PENDING: "yellow", BLOCKED: "bold red", NOT_EXERCISED: "cyan"}
    ws = Workspace.for_option(root, REPO_ROOT)
    phases = build_phases(ws.template)
    rows = {number: step_statuses(ws, phase) for number, phase in phases.items()}
    report = report_status(REPO_ROOT)
    data = {
        str(n): {
            "done": is_done(s),
            "steps": [{"step": st.title, **vars(status)} for st, status in s],
        }
        for n, s in rows.items()
    }
    data[str(REPORT_PHASE)] = {"done": report.state == DONE, "steps": [vars(report)]}
    lines = [
        (
            str(number) if index == 0 else "",
            escape(step.title),
            f"[{style_of[status.state]}]{status.state}[/]",
            escape(status.reason),
        )
        for number, statuses in rows.items()
        for index, (step, status) in enumerate(statuses)
    ]
    lines.append(
        (
            str(REPORT_PHASE),
            "measure and write the report (invoke perf)",
            f"[{style_of[report.state]}]{report.state}[/]",
            escape(report.reason),
        )
    )
    view = table(f"phases of {ws.root}", ("phase", "step", "state", "why"), lines)
    present(Outcome(data, [view]), json)
