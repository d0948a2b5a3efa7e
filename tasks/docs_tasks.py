"""`invoke docs.*`: documentation checks."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context

from tasks.contract import present, task


@task(
    name="check",
    help={"root": "repository to check; default: this repository", "json": "print JSON"},
)
def docs_check(c: Context, root: str = "", json: bool = False) -> None:
    """Check the docs: line limit, relative links, every service and server documented.

    Any finding (not just errors) fails.
    """
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, findings_outcome
    from tasks.rules.base import Severity
    from tasks.rules.catalog import run_rules

    stack = load_stack(Path(root) if root else REPO_ROOT)
    findings = run_rules(stack, {"DOC"})
    outcome = findings_outcome(
        "docs.check",
        findings,
        extra={"files": len(stack.docs)},
        fails=lambda f: f.severity is not Severity.INFO,
    )
    present(outcome, json)
