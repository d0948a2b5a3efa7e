"""`invoke doctor`: one row per prerequisite, with the fix for each missing one."""

from __future__ import annotations

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@task(help={"json": "print JSON"})
def doctor(c: Context, json: bool = False) -> None:
    """Check this host's prerequisites: engine, buildx, compose, disk, GPU runtime, Python.

    Exit 1 when a required one (engine, buildx, compose, disk) fails; warnings do not fail.
    """
    from rich.table import Table

    from tasks.engine.client import docker_client
    from tasks.engine.doctor import evaluate, gather_facts
    from tasks.report import EXIT_FINDINGS, console, emit_json

    facts = gather_facts(docker_client())
    rows = evaluate(facts)
    failed = any(row.status == "fail" for row in rows)
    if json:
        emit_json(
            {"ok": not failed, "checks": [row.__dict__ for row in rows], "facts": facts.to_json()}
        )
    else:
        table = Table(title="doctor", title_justify="left")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(row.check, f"[{_STYLE[row.status]}]{row.status}[/]", row.detail, row.fix)
        console.print(table)
    if failed:
        raise Exit(code=EXIT_FINDINGS)
