"""The static audit of a stack: every file read first, then the rules."""

from __future__ import annotations

from pathlib import Path

from tasks.errors import SchemaErrors
from tasks.model.stack import find_folder, load_stack, relative
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT, findings_outcome
from tasks.rules.base import RULES
from tasks.rules.catalog import run_rules, schema_findings


def check(root: str = "", profile: str = "") -> Outcome:
    """Audit the stack of `root` (default: this repository): every schema violation of every
    file as a finding, then, once every file matches its schema, every rule. Fails on an
    error finding; an unreadable file raises `StackError`."""
    target = Path(root) if root else REPO_ROOT
    repo = find_folder(target)[0]
    try:
        stack = load_stack(target, profile or None, keep_going=True)
    except SchemaErrors as failed:
        return findings_outcome(
            f"check {repo}",
            schema_findings(failed, lambda path: relative(path, repo)),
            extra={"root": str(repo), "rules": len(RULES), "rules_ran": False},
            notes=["the other rules run once every file matches its schema"],
        )
    return findings_outcome(
        f"check {stack.root}",
        run_rules(stack),
        extra={"root": str(stack.root), "rules": len(RULES), "rules_ran": True},
    )
