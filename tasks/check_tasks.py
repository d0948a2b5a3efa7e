"""`invoke check`: the static audit of a stack."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context

from tasks.contract import task


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
    from tasks.errors import SchemaErrors
    from tasks.model.stack import find_folder, load_stack, relative
    from tasks.report import REPO_ROOT, report_findings
    from tasks.rules.base import RULES
    from tasks.rules.catalog import run_rules, schema_findings

    target = Path(root) if root else REPO_ROOT
    repo = find_folder(target)[0]
    try:
        stack = load_stack(target, profile or None, keep_going=True)
    except SchemaErrors as failed:
        report_findings(
            f"check {repo}",
            schema_findings(failed, lambda path: relative(path, repo)),
            json,
            extra={"root": str(repo), "rules": len(RULES), "rules_ran": False},
            notes=["the other rules run once every file matches its schema"],
        )
        return
    findings = run_rules(stack)
    report_findings(
        f"check {stack.root}",
        findings,
        json,
        extra={"root": str(stack.root), "rules": len(RULES), "rules_ran": True},
    )
