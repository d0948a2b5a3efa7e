"""Output for people (rich tables) and for scripts (`--json`): findings, errors and JSON. The
exits themselves are `tasks.contract`'s (codes in `tasks.errors`)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tasks.errors import EXIT_FINDINGS
from tasks.outcome import Outcome
from tasks.rules.base import Finding, Severity
from tasks.terminal import printable

# Logs and CI (no terminal, no COLUMNS): tables take the width they need up to LOG_WIDTH instead
# of being folded at 80 columns.
LOG_WIDTH = 200


def _console(stderr: bool) -> Console:
    made = Console(stderr=stderr, highlight=False)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made.width = LOG_WIDTH
    return made


console = _console(stderr=False)
errors = _console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[1]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def emit_json(data: Any) -> None:
    """Print `data` as JSON on stdout (nothing else goes to stdout in --json mode)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_error(as_json: bool, message: str, error: dict[str, Any]) -> None:
    """One error, as `message` for people (on stderr) or `{"ok": false, "error": ...}` under
    --json (on stdout)."""
    if as_json:
        emit_json({"ok": False, "error": error})
    else:
        errors.print(f"[bold red]error:[/] {escape(printable(message))}", soft_wrap=True)


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per severity."""
    counts = {severity.value: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts


def findings_table(title: str, findings: list[Finding]) -> Table:
    """A table of findings, worst first."""
    table = Table(title=title, show_lines=False, expand=False)
    for column in ("severity", "rule", "location", "problem", "fix"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        table.add_row(
            f"[{_STYLE[finding.severity]}]{finding.severity.value}[/]",
            finding.rule,
            *(escape(printable(text)) for text in (finding.location, finding.message, finding.fix)),
        )
    return table


def findings_outcome(
    title: str,
    findings: list[Finding],
    extra: dict[str, Any] | None = None,
    fails: Callable[[Finding], bool] = lambda f: f.severity is Severity.ERROR,
    notes: Sequence[str] = (),
) -> Outcome:
    """Findings as an outcome: the table, `notes` and a verdict for people, the findings and
    their counts for `--json`; it fails (exit 1) when any finding `fails`."""
    counts = summarize(findings)
    failed = any(fails(f) for f in findings)
    data = {
        **(extra or {}),
        "ok": not failed,
        "summary": counts,
        "findings": [f.to_json() for f in findings],
    }
    views: list[object] = [findings_table(title, findings)] if findings else []
    views += [f"[cyan]note:[/] {escape(note)}" for note in notes]
    verdict = "[bold red]FAIL[/]" if failed else "[bold green]OK[/]"
    views.append(
        f"{verdict} {title}: {counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['info']} notes"
    )
    return Outcome(data, views, ok=not failed, code=EXIT_FINDINGS)
