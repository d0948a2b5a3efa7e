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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from invoke.tasks import task as invoke_task

from tasks.errors import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EngineError,
    Failure,
    StackError,
    UsageError,
)
from tasks.terminal import printable

if TYPE_CHECKING:
    from rich.table import Table


def _stop(as_json: bool, code: int, message: str, error: dict[str, Any]) -> NoReturn:
    """Report one error (as a message, or `{"ok": false, "error": ...}` under --json) and
    exit with `code`."""
    from invoke.exceptions import Exit

    from tasks.report import print_error

    print_error(as_json, message, error)
    raise Exit(code=code)


@contextmanager
def exits(as_json: bool) -> Iterator[None]:
    """Map the library's errors to exits: a `StackError` (an unreadable file) or a
    `UsageError` (a bad option value) to one clear message and exit 2; an `EngineError` (engine
    down, a docker call refused) or a `Failure` (the task could not go on) to exit 1."""
    try:
        yield
    except UsageError as error:
        _stop(as_json, EXIT_BAD_INPUT, str(error), {"problem": str(error)})
    except StackError as error:
        details = {"file": str(error.path), "line": error.line, "key": error.key}
        problem = {**details, "problem": error.problem, "fix": error.fix}
        _stop(as_json, EXIT_BAD_INPUT, error.render(), problem)
    except EngineError as error:
        _stop(as_json, EXIT_FINDINGS, str(error), {"problem": error.problem, "fix": error.fix})
    except Failure as failure:
        _stop(as_json, EXIT_FINDINGS, str(failure), {"problem": str(failure)})


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


@dataclass
class Outcome:
    """What a task found: `data` for `--json`; for people, `views` (rich tables, or lines in
    rich markup) printed in order; `ok` False makes the task exit with `code` (1 by default)."""

    data: dict[str, Any]
    views: list[Any] = field(default_factory=list)
    ok: bool = True
    code: int = 1


def present(outcome: Outcome, as_json: bool) -> None:
    """Print the outcome (JSON, or its views) and exit with its code when it failed."""
    from invoke.exceptions import Exit

    from tasks.report import console, emit_json

    if as_json:
        emit_json(outcome.data)
    else:
        for view in outcome.views:
            shown = printable(view) if isinstance(view, str) else view
            console.print(shown, soft_wrap=isinstance(view, str))
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
