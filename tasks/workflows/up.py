"""`up`, the main job: check, env.init, build.all, stack.up, verify.all and mcp.probe, in this
process, one after another, stopping at the first that fails, and one summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.markup import escape

from tasks.contract import Stop, show, table
from tasks.errors import EngineError, Failure, StackError, UsageError
from tasks.outcome import Outcome
from tasks.report import console
from tasks.workflows.build import BuildRequest, build
from tasks.workflows.check import check
from tasks.workflows.env import init_env
from tasks.workflows.probe import probe_servers
from tasks.workflows.profile import Profiled
from tasks.workflows.stack import stack_up
from tasks.workflows.verify import sections, verify


@dataclass(frozen=True)
class Step:
    """One step: its name as the task it is, and the workflow that does it."""

    name: str
    run: Callable[[], Outcome]


def steps(profile: str, persistence: bool, quiet: bool) -> list[Step]:
    """The steps of `up`. The profile goes to env.init only: from there on
    .devcontainer/.env selects it for every step, as for VS Code and compose."""
    switch = f" --profile {profile}" if profile else ""
    checks = " --persistence" if persistence else ""
    return [
        Step("check", check),
        Step(f"env.init{switch}", lambda: init_env(profile)),
        Step("build.all --parallel", lambda: build(BuildRequest(parallel=True), quiet=quiet)),
        Step("stack.up", lambda: stack_up(Profiled.load(), quiet=quiet)),
        Step(f"verify.all{checks}", lambda: verify(list(sections()), "", persistence)),
        Step("mcp.probe --repeat 1", lambda: probe_servers(repeat=1)),
    ]


def attempt(step: Step) -> Outcome:
    """The step's outcome; one of the library's errors becomes a failed outcome with the exit
    code and message the task would have had."""
    try:
        return step.run()
    except (UsageError, StackError, EngineError, Failure) as error:
        stop = Stop.of(error)
        view = f"[bold red]error:[/] {escape(stop.message)}"
        return Outcome({"ok": False, "error": stop.error}, [view], ok=False, code=stop.code)


def up(profile: str = "", persistence: bool = False, as_json: bool = False) -> Outcome:
    """Run every step, each one's output as it ends (on stderr under `as_json`), until one
    fails; the summary table, and the failed step's own exit code (2 for bad input)."""
    rows: list[dict[str, object]] = []
    planned = steps(profile, persistence, quiet=as_json)
    for step in planned:
        if not as_json:
            console.rule(f"invoke {step.name}")
        started = time.monotonic()
        outcome = attempt(step)
        show(outcome, False, on_stderr=as_json)
        rows.append(
            {
                "step": step.name,
                "ok": outcome.ok,
                "exit": 0 if outcome.ok else outcome.code,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        if not outcome.ok:
            break
    failed = [r for r in rows if not r["ok"]]
    skipped = [step.name for step in planned[len(rows) :]]
    lines = [
        (
            str(row["step"]),
            "[green]ok[/]" if row["ok"] else f"[red]failed (exit {row['exit']})[/]",
            f"{row['seconds']:.1f}",
        )
        for row in rows
    ]
    lines += [(step, "[yellow]not run (an earlier step failed)[/]", "") for step in skipped]
    view = table("invoke up", ("step", "result", "seconds"), lines)
    code = int(str(failed[0]["exit"])) if failed else 0
    data = {"ok": not failed, "steps": rows, "not_run": skipped}
    return Outcome(data, [view], ok=not failed, code=code)
