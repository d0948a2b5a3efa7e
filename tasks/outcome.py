"""What a workflow or task found, for people and for scripts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What a task found: `data` for `--json`; for people, `views` (rich tables, or lines in
    rich markup) printed in order; `ok` False makes the task exit with `code` (1 by default)."""

    data: dict[str, Any]
    views: list[Any] = field(default_factory=list)
    ok: bool = True
    code: int = 1
