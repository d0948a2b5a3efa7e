"""The contract every task keeps, in one place.

- Exits: unreadable input and bad option values exit 2; an engine failure (Docker down, a call
  refused) or a task that cannot go on exits 1; each as one message that says what to do (a
  JSON object with `"ok": false` under `--json`). `task` applies this to every task body.
- Output: a task builds an `Outcome` and hands it to `present`, which prints the JSON data
  under `--json`, otherwise the views (tables, lines) for people; a failed outcome exits with
  its code (1 unless the task passes on another, as `up` does with a failed step's). Text from
  outside (a server's answer, a file's content) never reaches the terminal as control
  characters: `printable` strips them from every table cell and line.

This module imports only invoke, so that `invoke --list` stays fast; rich and the report
helpers load when a task runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from invoke.tasks import task as invoke_task

if TYPE_CHECKING:
    from rich.table import Table


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without the characters a terminal acts on instead of showing: escape sequences'
    ESC and CSI, bells, backspaces, carriage returns, and the bidirectional overrides that
    reorder what is shown. Newlines and tabs stay."""
    return _CONTROL.sub("", text)


class UsageError(Exception):
    """A task's own bad input (an option value, a service name): exit 2 with this message."""


class Failure(Exception):
    """The task could not do its job (a build failed, data would be lost): exit 1 with this
    message, which names the fix."""


def task(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """invoke's `@task(...)`, with the body run under the exit contract (its `json` argument
    decides whether an error is printed as a message or as JSON)."""

    def decorate(body: Callable[..., Any]) -> Any:
        @functools.wraps(body)
        def run(*call_args: Any, **call_kwargs: Any) -> Any:
            from tasks.report import bad_input_exits, engine_failure_exits

            as_json = bool(call_kwargs.get("json", False))
            with bad_input_exits(as_json), engine_failure_exits(as_json):
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
