"""`invoke doctor`: one row per prerequisite, with the fix for each missing one."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.outcome import Outcome

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@task(help={"json": "print JSON"})
def doctor(c: Context, json: bool = False) -> None:
    """Check this host's prerequisites: engine, buildx, compose, disk, GPU runtime, Python.

    Exit 1 when a required one (engine, buildx, compose, disk) fails; warnings do not fail.
    """
    from rich.markup import escape

    from tasks.engine.client import docker_client
    from tasks.engine.doctor import evaluate, gather_facts

    facts = gather_facts(docker_client())
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
    present(Outcome(data, [view], ok=ok), json)
