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

    Exit 0 when clean, 1 on errors, 2 on unreadable input.
    """
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, report_findings
    from tasks.rules.registry import RULES, run_rules

    target = Path(root) if root else REPO_ROOT
    stack = load_stack(target, profile or None)
    findings = run_rules(stack)
    report_findings(
        f"check {stack.root}",
        findings,
        json,
        extra={"root": str(stack.root), "rules": len(RULES)},
    )
