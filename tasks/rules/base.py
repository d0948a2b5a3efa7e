"""Findings, the rule registry and the audit runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.stack import Stack


class Severity(StrEnum):
    """How bad a finding is: only errors fail `invoke check`."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Hit:
    """What a rule reports: location, problem and fix (severity defaults to the rule's), and
    the key path when the problem is one key's."""

    path: Path
    line: int | None
    message: str
    fix: str
    severity: Severity | None = None
    key: str | None = None

    @classmethod
    def of(cls, error: StackError) -> Hit:
        """A `StackError` (a schema violation, an ignored key) as a finding's hit."""
        return cls(error.path, error.line, error.problem, error.fix, key=error.key)


@dataclass(frozen=True)
class Finding:
    """A reported problem with its rule id, severity and location relative to the repo root."""

    rule: str
    severity: Severity
    path: str
    line: int | None
    message: str
    fix: str
    key: str | None = None

    @property
    def location(self) -> str:
        """`path:line [key]` for people."""
        place = f"{self.path}:{self.line}" if self.line else self.path
        return f"{place} [{self.key}]" if self.key else place

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

SCHEMA = "SCHEMA"
"""The rule id of a schema violation: a file that is not what its consumer accepts (always an
error; the other rules run once every file matches its schema)."""
IGNORED_KEY = "DEV003"
"""The rule that reports a devcontainer.json key VS Code ignores."""


def ordered(found: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by file and line; one finding per rule, place and message."""
    unique: dict[tuple[str, str, int | None, str], Finding] = {}
    for item in found:
        unique.setdefault((item.rule, item.path, item.line, item.message), item)
    return sorted(unique.values(), key=lambda f: (_ORDER[f.severity], f.path, f.line or 0, f.rule))


def finding(rule_id: str, severity: Severity, hit: Hit, rel: Callable[[Path], str]) -> Finding:
    """The finding a rule's hit makes (the hit's own severity, if it has one, wins)."""
    return Finding(
        rule_id, hit.severity or severity, rel(hit.path), hit.line, hit.message, hit.fix, hit.key
    )
