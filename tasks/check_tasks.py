"""`invoke check`: the static audit of a stack."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, task


@task(
    help={
        "root": "repository (or .devcontainer folder) to audit; default: this repository",
        "json": "print findings as JSON instead of a table",
        "profile": "interpolate with .devcontainer/profiles/NAME.env as well (e.g. offline)",
    }
)
def check(c: Context, root: str = "", json: bool = False, profile: str = "") -> None:
    """Audit the stack statically and print each finding with its fix.

    One pass: every file is read first, and every schema violation of every file is a finding
    (rule SCHEMA, with its key); the other rules run once every file matches its schema.
    Exit 0 when clean, 1 on errors, 2 on unreadable input (a syntax error stops there).
    """
    from tasks.workflows.check import check as audit

    present(audit(root, profile), json)
