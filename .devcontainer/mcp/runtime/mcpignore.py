"""`.mcpignore`: the workspace paths no MCP server may see, in gitignore syntax.

Standard library only: the launcher runs it with whatever `python3` the client has, and the
task library imports the same file for `invoke check`.

Supported syntax is gitignore's: `#` comments, `!` negation, a leading or inner `/` anchors a
pattern to the workspace root, a trailing `/` matches folders only, `*`, `?`, `[...]` (with
git's `[:digit:]` classes) and `**`.
As in git, a path inside a matched folder cannot be re-included. `.git` is looked at but never
entered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = ".mcpignore"
NOT_ENTERED = ".git"


@dataclass(frozen=True)
class Pattern:
    """One line of `.mcpignore`."""

    line: int
    text: str
    regex: re.Pattern[str]
    negated: bool
    folders_only: bool
    anchored: bool

    @property
    def literal(self) -> bool:
        """True when the pattern names one path (no wildcard)."""
        return not re.search(r"(?<!\\)[*?\[]", self.text)

    @property
    def matches_nothing(self) -> bool:
        """True when the pattern can match no path (an unclosed `[`, an unknown `[:class:]`
        or a trailing backslash)."""
        return NOTHING in self.regex.pattern


# The character classes git's wildmatch knows inside brackets (`[[:digit:]]`), in ASCII.
POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": r" \t",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "space": r" \t\n\r\f\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}
# What a pattern with an unclosed `[`, an unknown `[:class:]` or a trailing backslash
# becomes: like git, it matches nothing.
NOTHING = "(?!)"


def _bracket(part: str, start: int) -> tuple[str, int]:
    """The regex of the bracket expression opening at `part[start]`, and the index after it.

    As git's wildmatch reads it: `!` or `^` first negates; the first character is a member even
    when it is `]`; `\\` makes the next character a member; `a-z` is a range (a reversed one
    keeps only its first end); `[:digit:]` and its kin are classes; no class matches `/`. An
    unclosed `[`, or a class name git does not know, makes the pattern match nothing."""
    index = start + 1
    negated = part[index : index + 1] in ("!", "^")
    index += negated
    members: list[str] = []
    previous = ""  # the last single character, which a `-` can make a range from
    while index < len(part):
        char = part[index]
        if char == "]" and index > start + 1 + negated:
            return "(?!/)[" + "^" * negated + "".join(members) + "]", index + 1
        if char == "\\" and index + 1 < len(part):
            index += 1
            char = part[index]
        elif char == "-" and previous and index + 1 < len(part) and part[index + 1] != "]":
            index += 1
            high = part[index]
            if high == "\\" and index + 1 < len(part):
                index += 1
                high = part[index]
            if high >= previous:
                members[-1] = re.escape(previous) + "-" + re.escape(high)
            previous = ""
            index += 1
            continue
        elif part.startswith("[:", index):
            close = part.find(":]", index + 2)
            if close != -1:
                name = part[index + 2 : close]
                if name not in POSIX_CLASSES:
                    return NOTHING, len(part)
                members.append(POSIX_CLASSES[name])
                previous = ""
                index = close + 2
                continue
        members.append(re.escape(char))
        previous = char
        index += 1
    return NOTHING, len(part)


def _segment(part: str) -> str:
    """Regex for one path segment of a pattern (`*`, `?`, `[...]`, `\\x`)."""
    out: list[str] = []
    index = 0
    while index < len(part):
        char = part[index]
        if char == "\\":
            # a trailing backslash escapes nothing: like git, the pattern matches nothing
            out.append(re.escape(part[index + 1]) if index + 1 < len(part) else NOTHING)
            index += 2
            continue
        if char == "[":
            found, index = _bracket(part, index)
            out.append(found)
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


def _regex(body: str, anchored: bool) -> re.Pattern[str]:
    """Regex over a workspace-relative POSIX path for a pattern body (no leading or trailing
    `/`)."""
    parts = body.split("/")
    pieces: list[str] = [] if anchored else ["(?:.*/)?"]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            pieces.append(".*" if last else "(?:.*/)?")
            continue
        pieces.append(_segment(part) + ("" if last else "/"))
    return re.compile("".join(pieces) + r"\Z", re.DOTALL)


def parse(text: str) -> list[Pattern]:
    """The patterns of an `.mcpignore` text, in order."""
    patterns: list[Pattern] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw
        while line.endswith(" ") and not line.endswith("\\ "):
            line = line[:-1]
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        body = line[1:] if negated else line
        if body.startswith(("\\#", "\\!")):
            body = body[1:]
        folders_only = body.endswith("/")
        body = body.rstrip("/")
        anchored = "/" in body
        body = body.lstrip("/")
        if not body:
            continue
        patterns.append(
            Pattern(number, line, _regex(body, anchored), negated, folders_only, anchored)
        )
    return patterns


def read(workspace: Path) -> list[Pattern]:
    """The patterns of the workspace's `.mcpignore` (none when it has no such file)."""
    path = workspace / FILE_NAME
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def decide(patterns: list[Pattern], rel: str, is_folder: bool) -> Pattern | None:
    """The pattern that masks `rel` itself (the last matching line, unless it negates), or
    None. Folders above `rel` are not considered: see `masked`."""
    verdict: Pattern | None = None
    for pattern in patterns:
        if pattern.folders_only and not is_folder:
            continue
        if pattern.regex.match(rel):
            verdict = None if pattern.negated else pattern
    return verdict


def masked(patterns: list[Pattern], rel: str, is_folder: bool) -> bool:
    """True when `rel` or a folder above it is masked."""
    parts = rel.split("/")
    for depth in range(1, len(parts)):
        if decide(patterns, "/".join(parts[:depth]), True):
            return True
    return decide(patterns, rel, is_folder) is not None


@dataclass(frozen=True)
class Match:
    """A workspace path to hide, and the pattern that hides it."""

    rel: str
    is_folder: bool
    pattern: Pattern


def matches(workspace: Path, patterns: list[Pattern]) -> Iterator[Match]:
    """Every masked path under `workspace`, outermost only (nothing inside a masked folder is
    listed again); symbolic links are left alone (a link shows only where it points)."""
    if not patterns:
        return
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            entries = sorted(os.scandir(workspace / prefix), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                continue
            rel = f"{prefix}{entry.name}"
            folder = entry.is_dir(follow_symlinks=False)
            pattern = decide(patterns, rel, folder)
            if pattern is not None:
                yield Match(rel, folder, pattern)
            elif folder and entry.name != NOT_ENTERED:
                stack.append(rel + "/")
