"""The one way a generated file is made: a generator renders the text each of its files should
have (`Views`), `differences` compares it with the files (the drift a rule reports), `unified`
shows it as a diff, and `write_changed` writes the files that differ, each atomically.

Client configs and the docs' MCP servers table (from the MCP manifests) and the pin views (from
versions.json) are generated this way."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from tasks.files import write_atomic
from tasks.model.source import present, read_text

Views = dict[Path, str]
"""Path -> the text a generator says the file should have."""


@dataclass(frozen=True)
class Difference:
    """A generated file that differs from what its generator renders, and where first."""

    path: Path
    line: int
    have: str
    want: str
    current: str
    wanted: str


def first_difference(current: str, wanted: str) -> tuple[int, str, str]:
    """(line number, current line, wanted line) of the first line that differs; texts whose
    lines agree but whose line ends differ differ at their last line."""
    have, want = current.splitlines(True), wanted.splitlines(True)
    for number, (a, b) in enumerate(zip(have, want, strict=False), start=1):
        if a != b:
            return number, a.rstrip("\r\n"), b.rstrip("\r\n")
    number = min(len(have), len(want)) + 1
    if len(want) > len(have):
        return number, "", want[number - 1].rstrip("\r\n")
    return number, have[number - 1].rstrip("\r\n"), ""


def current_text(path: Path) -> str:
    """A generated file's text as it is ('' when it does not exist yet)."""
    return read_text(path, "generated file") if present(path) else ""


def differences(views: Views) -> list[Difference]:
    """Every file whose text is not what its generator renders."""
    found = []
    for path, wanted in views.items():
        current = current_text(path)
        if current != wanted:
            line, have, want = first_difference(current, wanted)
            found.append(Difference(path, line, have, want, current, wanted))
    return found


def unified(difference: Difference, name: str) -> str:
    """The difference as a unified diff, the file called `name`."""
    lines = difflib.unified_diff(
        difference.current.splitlines(True), difference.wanted.splitlines(True), name, name
    )
    return "".join(lines)


def write_changed(views: Views) -> list[Path]:
    """Write the files that differ (folders made as needed); returns what changed."""
    changed = []
    for difference in differences(views):
        difference.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(difference.path, difference.wanted)
        changed.append(difference.path)
    return changed
