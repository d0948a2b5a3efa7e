"""The one error type for unreadable or inconsistent stack input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class StackError(Exception):
    """Bad input: names the file, the line or key, the problem and the fix."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        fix: str,
        *,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        self.line = line
        self.key = key
        super().__init__(self.render())

    @property
    def location(self) -> str:
        """`file[:line]` for messages."""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def render(self) -> str:
        """One line: where, which key, what is wrong, how to fix it."""
        key = f" [{self.key}]" if self.key else ""
        return f"{self.location}{key}: {self.problem}. Fix: {self.fix}"


class SchemaErrors(StackError):
    """Every schema violation found (in one file, or in each file of a stack): `errors`, the
    most relevant first, which is also this error's own message; `notes`, keys the file's
    consumer ignores, which are reported beside them as warnings."""

    def __init__(self, errors: Sequence[StackError], notes: Sequence[StackError] = ()) -> None:
        first = errors[0]
        super().__init__(first.path, first.problem, first.fix, line=first.line, key=first.key)
        self.errors = tuple(errors)
        self.notes = tuple(notes)
