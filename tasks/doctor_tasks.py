"""`invoke doctor`: one row per prerequisite, with the fix for each missing one."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, task


@task(help={"json": "print JSON"})
def doctor(c: Context, json: bool = False) -> None:
    """Check this host's prerequisites: engine, buildx, compose, disk, GPU runtime, Python.

    The address pools and interpreters checked are the ones the stack's files ask for. Exit 1
    when a required one (engine, buildx, compose, disk) fails; warnings do not fail.
    """
    from tasks.workflows.doctor import doctor as check_host

    present(check_host(), json)
