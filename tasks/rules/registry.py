"""Findings, the rule registry and the audit runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tasks.model.stack import Stack


class Severity(StrEnum):
    """How bad a finding is: only errors fail `invoke check`."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Hit:
    """What a rule reports: location, problem and fix (severity defaults to the rule's)."""

    path: Path
    line: int | None
    message: str
    fix: str
    severity: Severity | None = None


@dataclass(frozen=True)
class Finding:
    """A reported problem with its rule id, severity and location relative to the repo root."""

    rule: str
    severity: Severity
    path: str
    line: int | None
    message: str
    fix: str

    @property
    def location(self) -> str:
        """`path:line` for people."""
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_json(self) -> dict[str, Any]:
        """Plain dict for `--json` output."""
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


RuleFunction = Callable[[Stack], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A registered rule."""

    id: str
    title: str
    severity: Severity
    group: str
    function: RuleFunction


RULES: dict[str, Rule] = {}


def rule(rule_id: str, title: str, severity: Severity) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function under `rule_id` (the id prefix is its group)."""

    def register(function: RuleFunction) -> RuleFunction:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        group = rule_id.rstrip("0123456789")
        RULES[rule_id] = Rule(rule_id, title, severity, group, function)
        return function

    return register


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def run_rules(stack: Stack, groups: Iterable[str] | None = None) -> list[Finding]:
    """Run every rule (or those whose group or id is in `groups`); return sorted findings."""
    from tasks.rules import catalog  # noqa: F401  (registers every rule)

    wanted = set(groups) if groups is not None else None
    found: dict[tuple[str, str, int | None, str], Finding] = {}
    for entry in RULES.values():
        if wanted is not None and not {entry.group, entry.id} & wanted:
            continue
        for hit in entry.function(stack):
            finding = Finding(
                entry.id,
                hit.severity or entry.severity,
                stack.rel(hit.path),
                hit.line,
                hit.message,
                hit.fix,
            )
            found.setdefault((finding.rule, finding.path, finding.line, finding.message), finding)
    return sorted(found.values(), key=lambda f: (_ORDER[f.severity], f.path, f.line or 0, f.rule))
