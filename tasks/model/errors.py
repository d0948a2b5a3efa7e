"""The one error type for unreadable or inconsistent stack input."""

from __future__ import annotations

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
