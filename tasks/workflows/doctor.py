"""The host's prerequisites, measured against what the stack's files ask for."""

from __future__ import annotations

from tasks.contract import table
from tasks.engine.client import docker_client
from tasks.engine.doctor import gather_facts
from tasks.engine.prerequisites import Wanted, evaluate
from tasks.errors import StackError
from tasks.model.stack import load_stack
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def wanted() -> tuple[Wanted, str | None]:
    """The networks and interpreters this repository's stack asks for, and why none are known
    when its files cannot be read (the doctor still checks the rest)."""
    try:
        stack = load_stack(REPO_ROOT)
    except StackError as error:
        return Wanted(), f"the stack's files cannot be read ({error}); `invoke check` names why"
    return Wanted.of(list(stack.compose.networks.values()), stack.versions), None


def doctor() -> Outcome:
    """One row per prerequisite with its fix; fails when a required one (engine, buildx,
    compose, disk) fails."""
    from rich.markup import escape

    asked, unread = wanted()
    facts = gather_facts(docker_client(), asked)
    rows = evaluate(facts)
    ok = not any(row.status == "fail" for row in rows)
    view = table(
        "doctor",
        ("check", "status", "detail", "fix"),
        [
            (r.check, f"[{_STYLE[r.status]}]{r.status}[/]", escape(r.detail), escape(r.fix))
            for r in rows
        ],
    )
    data = {"ok": ok, "checks": [row.__dict__ for row in rows], "facts": facts.to_json()}
    if unread:
        data["unread"] = unread
    views = [view, *([f"[yellow]note:[/] {escape(unread)}"] if unread else [])]
    return Outcome(data, views, ok=ok)
