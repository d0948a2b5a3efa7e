"""The library's errors and the exit code each means. The bottom layer: every layer raises
them; `tasks.contract` turns them into exits, `tasks.report` renders them.

- exit 2, bad input: `StackError` (a file that cannot be read or makes no sense; `SchemaErrors`
  for every schema violation at once), `UsageError` (an option value, a service name);
- exit 1, the task could not do its job: `EngineError` (the engine is down or refused a call;
  `EngineUnreachable` when none answered), `Failure` (a build failed, data would be lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
ENGINE_FIX = "start the engine: scripts/provision-engine.sh (or `invoke doctor` for details)"


class UsageError(Exception):
    """A task's own bad input (an option value, a service name): exit 2 with this message."""


class Failure(Exception):
    """The task could not do its job (a build failed, data would be lost): exit 1 with this
    message, which names the fix."""


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


class EngineError(RuntimeError):
    """Docker is unreachable or refused an operation."""

    def __init__(self, problem: str, fix: str = ENGINE_FIX) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}. Fix: {fix}")


class EngineUnreachable(EngineError):
    """No engine answered (it is down, or the socket is wrong or not ours to use)."""
