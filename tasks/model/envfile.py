"""Env files (`devcontainer.env`, `.env`, `runner.env`, the profiles) read exactly as compose's
dotenv parser reads them (compose-go `dotenv`):

- a statement is `[export ]KEY=VALUE` or `KEY: VALUE`; a line holding only `KEY` takes the
  variable from compose's shell (no value here); `#` starts a comment where a statement could;
- an unquoted value runs to the end of its line, is cut at the first ` #` (a space, not a
  tab, before `#`), loses trailing white space, and is interpolated (`${VAR}`, `$$`);
- a quoted value may span lines; a backslash escapes the quote; single quotes keep the text
  as it is, double quotes expand `\\n`, `\\t`, `\\\\`, `\\$` (and the other C escapes) and then
  interpolate; whatever follows the closing quote on its line is read as the next statement.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.model.source import read_text

_FIX = "write one KEY=VALUE per line; comments start with #"
_EXPORT = re.compile(r"export\s+")
_ESCAPE = re.compile(r"\\.")
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "$": "$$",  # a literal dollar, as the interpolation reads it
}
_BLANK = "\t\v\f\r \x85\xa0"  # compose's "space" inside a line (a newline ends a statement)


@dataclass(frozen=True)
class EnvEntry:
    """One `KEY=VALUE` statement; `line` is where its key is."""

    key: str
    value: str
    line: int


@dataclass(frozen=True)
class EnvFile:
    """An env file with its entries in file order."""

    path: Path
    entries: tuple[EnvEntry, ...]

    def as_dict(self) -> dict[str, str]:
        """Mapping of keys to values; a later duplicate wins, as in compose."""
        return {entry.key: entry.value for entry in self.entries}

    def line_of(self, key: str) -> int | None:
        """Line number of the last definition of `key`."""
        found = [entry.line for entry in self.entries if entry.key == key]
        return found[-1] if found else None


def _is_space(char: str) -> bool:
    """Go's `unicode.IsSpace`."""
    return char in _BLANK or char == "\n" or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def _blank(char: str) -> bool:
    """compose's `isSpace`: white space within a line."""
    return char in _BLANK


class _Reader:
    """One pass over the text, statement by statement."""

    def __init__(self, text: str, path: Path) -> None:
        self.text = text.removeprefix("\ufeff")
        self.path = path
        self.newlines = [i for i, char in enumerate(self.text) if char == "\n"]
        self.known: dict[str, str] = {}

    def line(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def error(
        self, index: int, problem: str, fix: str = _FIX, key: str | None = None
    ) -> StackError:
        return StackError(self.path, problem, fix, line=self.line(index), key=key)

    def entries(self) -> list[EnvEntry]:
        found: list[EnvEntry] = []
        index = self._statement(0)
        while index < len(self.text):
            start = index
            key, index, inherited = self._key(index)
            if not inherited:
                value, index = self._value(index, key, start)
                self.known[key] = value
                found.append(EnvEntry(key, value, self.line(start)))
            index = self._statement(index)
        return found

    def _statement(self, index: int) -> int:
        """Where the next statement starts: past white space and comment lines."""
        text = self.text
        while index < len(text):
            if _is_space(text[index]):
                index += 1
            elif text[index] == "#":
                end = text.find("\n", index)
                index = len(text) if end < 0 else end
            else:
                break
        return index

    def _key(self, index: int) -> tuple[str, int, bool]:
        """The key at `index`, where its value starts, and whether it has none (`KEY` alone)."""
        text = self.text
        export = _EXPORT.match(text, index)
        if export:
            index += len("export")
            while index < len(text) and _blank(text[index]):
                index += 1
        start = index
        while index < len(text):
            char = text[index]
            if char in "=:\n":
                break
            if not (_blank(char) or char in "_.-[]" or char.isalnum()):
                raise self.error(
                    start,
                    f"cannot read {text[start : index + 1][:40]!r} as the start of KEY=VALUE: "
                    f"{char!r} cannot be part of a variable name",
                )
            index += 1
        key = text[start:index].rstrip(_BLANK)
        if index == len(text):
            raise self.error(
                start,
                "a last line without = is a value with no name to compose",
                "write KEY=VALUE, or end the file with a newline to take KEY from the shell",
            )
        inherited = text[index] == "\n"
        if not key and not inherited:
            raise self.error(
                start, f"a value without a variable name (a line starting with {text[index]!r})"
            )
        if " " in key:
            raise self.error(
                start, f"cannot read {key!r} as KEY=VALUE: a variable name has no spaces", key=key
            )
        index += 1
        while not inherited and index < len(text) and _blank(text[index]):
            index += 1
        return key, index, inherited

    def _value(self, index: int, key: str, start: int) -> tuple[str, int]:
        """The value at `index` and where the next statement may start."""
        text = self.text
        if index < len(text) and text[index] in "'\"":
            return self._quoted(index, key, start)
        end = text.find("\n", index)
        end = len(text) if end < 0 else end
        value = text[index:end].split(" #", 1)[0]
        stop = len(value)
        while stop and _is_space(value[stop - 1]):
            stop -= 1
        return self._interpolated(value[:stop], key, start), end + 1

    def _quoted(self, index: int, key: str, start: int) -> tuple[str, int]:
        text, quote = self.text, self.text[index]
        chars: list[str] = []
        escaped = False
        for position in range(index + 1, len(text)):
            char = text[position]
            if char == quote and not escaped:
                value = "".join(chars)
                if quote == '"':
                    expanded = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group()[1], m.group()), value)
                    value = self._interpolated(expanded, key, start)
                return value, position + 1
            if char == "\\" and not escaped:
                escaped = True
                continue
            if escaped and char != quote:
                chars.append("\\")
            escaped = False
            chars.append(char)
        raise self.error(start, f"unterminated {quote} quote", f"close the {quote} quote", key=key)

    def _interpolated(self, value: str, key: str, start: int) -> str:
        try:
            return Interpolator(self.known).resolve(value)
        except InterpolationError as error:
            raise self.error(start, error.quiet, error.fix, key=key) from None


def parse_env_text(text: str, path: Path) -> EnvFile:
    """Parse env-file text as compose does; raise `StackError` naming the line of the first
    statement compose would refuse."""
    return EnvFile(path, tuple(_Reader(text, path).entries()))


def load_env_file(path: Path) -> EnvFile:
    """Read and parse an env file (through the one reader: missing, unreadable or not UTF-8 is
    a `StackError`)."""
    return parse_env_text(read_text(path, "env file"), path)
