"""Every rule: imports each rule module (each registers its rules) and runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from tasks.errors import SchemaErrors
from tasks.model.stack import Stack
from tasks.rules import (  # noqa: F401  (each registers its rules)
    compose_rules,
    devcontainer_rules,
    dockerfile_rules,
    docs_rules,
    env_rules,
    image_rules,
    mcp_rules,
    monitoring_rules,
    python_rules,
    secret_rules,
    version_rules,
    volume_rules,
)
from tasks.rules.base import IGNORED_KEY, RULES, SCHEMA, Finding, Hit, Severity, finding, ordered


def run_rules(stack: Stack, groups: Iterable[str] | None = None) -> list[Finding]:
    """Run every rule (or those whose group or id is in `groups`); return sorted findings."""
    wanted = set(groups) if groups is not None else None
    return ordered(
        finding(entry.id, entry.severity, hit, stack.rel)
        for entry in RULES.values()
        if wanted is None or {entry.group, entry.id} & wanted
        for hit in entry.function(stack)
    )


def schema_findings(failed: SchemaErrors, rel: Callable[[Path], str]) -> list[Finding]:
    """Every schema violation of a stack that could not be loaded (rule `SCHEMA`), and the
    keys its consumer ignores (rule DEV003), as findings."""
    errors = (finding(SCHEMA, Severity.ERROR, Hit.of(e), rel) for e in failed.errors)
    notes = (finding(IGNORED_KEY, Severity.WARNING, Hit.of(e), rel) for e in failed.notes)
    return ordered([*errors, *notes])
