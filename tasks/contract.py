"""The contract every task keeps, in one place.

- Exits: unreadable input and bad option values exit 2; an engine failure (Docker down, a call
  refused) or a task that cannot go on exits 1; each as one message that says what to do (a
  JSON object with `"ok": false` under `--json`). `task` applies this to every task body.
- Output: a task builds an `Outcome` and hands it to `present`, which prints the JSON data
  under `--json`, otherwise the views (tables, lines) for people; a failed outcome exits with
  its code (1 unless the task passes on another, as `up` does with a failed step's). Text from
  outside (a server's answer, a file's content) never reaches the terminal as control
  characters: `printable` strips them from every table cell and line.

The errors live in `tasks.errors`; `tasks.report` renders. This module imports only invoke and
those two light modules, so that `invoke --list` stays fast; rich loads when a task runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from invoke.tasks import task as invoke_task

from tasks.errors import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EngineError,
    Failure,
    StackError,
    UsageError,
)
from tasks.outcome import Outcome
from tasks.terminal import printable

if TYPE_CHECKING:
    from rich.table import Table


LibraryError = UsageError | StackError | EngineError | Failure
"""The errors the contract maps to exits; anything else is a bug and keeps its traceback."""


@dataclass(frozen=True)
class Stop:
    """What one of the library's errors means: the exit code, the message for people and the
    error object for `--json`."""

    code: int
    message: str
    error: dict[str, Any]

    @classmethod
    def of(cls, error: LibraryError) -> Stop:
        """A `StackError` (an unreadable file) or a `UsageError` (a bad option value) exits
        2; an `EngineError` (engine down, a docker call refused) or a `Failure` (the task could
        not go on) exits 1."""
        if isinstance(error, StackError):
            details = {"file": str(error.path), "line": error.line, "key": error.key}
            problem = {**details, "problem": error.problem, "fix": error.fix}
            return cls(EXIT_BAD_INPUT, error.render(), problem)
        if isinstance(error, UsageError):
            return cls(EXIT_BAD_INPUT, str(error), {"problem": str(error)})
        if isinstance(error, EngineError):
            return cls(EXIT_FINDINGS, str(error), {"problem": error.problem, "fix": error.fix})
        return cls(EXIT_FINDINGS, str(error), {"problem": str(error)})


@contextmanager
def exits(as_json: bool) -> Iterator[None]:
    """Map the library's errors to exits: one message (or a JSON object under --json) and the
    exit code `Stop.of` gives."""
    from invoke.exceptions import Exit

    try:
        yield
    except (UsageError, StackError, EngineError, Failure) as error:
        from tasks.report import print_error

        stop = Stop.of(error)
        print_error(as_json, stop.message, stop.error)
        raise Exit(code=stop.code) from None


def task(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """invoke's `@task(...)`, with the body run under the exit contract (its `json` argument
    decides whether an error is printed as a message or as JSON)."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(*call_args: Any, **call_kwargs: Any) -> Any:
            with exits(bool(call_kwargs.get("json", False))):
                return body(*call_args, **call_kwargs)

        return invoke_task(*args, **kwargs)(run)

    return decorate


def show(outcome: Outcome, as_json: bool, on_stderr: bool = False) -> None:
    """Print the outcome: its JSON data, or its views for people (on stderr when asked)."""
    from tasks.report import console, emit_json, errors

    if as_json:
        emit_json(outcome.data)
        return
    for view in outcome.views:
        shown = printable(view) if isinstance(view, str) else view
        (errors if on_stderr else console).print(shown, soft_wrap=isinstance(view, str))


def present(outcome: Outcome, as_json: bool) -> None:
    """Print the outcome (JSON, or its views) and exit with its code when it failed."""
    from invoke.exceptions import Exit

    show(outcome, as_json)
    if not outcome.ok:
        raise Exit(code=outcome.code)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table in the library's one style: title on the left, long cells folded, never cut;
    cells may hold rich markup (escape what comes from outside), and lose control characters
    (`printable`)."""
    from rich.table import Table

    made = Table(title=printable(title), title_justify="left")
    for column in columns:
        made.add_column(column, overflow="fold")
    for row in rows:
        made.add_row(*(printable(cell) for cell in row))
    return made
