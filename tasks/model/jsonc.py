"""JSON with comments, as VS Code reads devcontainer.json and mcp.json: `//` and `/* */`
comments and trailing commas are allowed, nothing else beyond JSON.

One pass over the text, in linear time whatever the input: comments and trailing commas are
blanked in place (so the standard `json` parser reports the author's own line and column), the
line of every key and array item is recorded, a key written twice in one object is refused
(only the last would count), and so is nesting deeper than `MAX_DEPTH`, before any parser
recurses into it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

KeyPath = tuple[str | int, ...]

MAX_DEPTH = 64
"""Objects and arrays nested deeper than this are refused: no stack file needs it, and the
parsers and validators after this one recurse once per level."""

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_SCALAR = re.compile(r'[^\s,:\[\]{}"/]+')
_SPACE = re.compile(r"[ \t\r\n]+")


class JsoncError(ValueError):
    """Text that is not JSONC; `line` is 1-based, `fix` says how to repair it."""

    def __init__(self, problem: str, line: int, fix: str = "") -> None:
        super().__init__(f"line {line}: {problem}")
        self.problem = problem
        self.line = line
        self.fix = fix


@dataclass
class _Container:
    """An object or array being scanned: its key path, and where its members stand."""

    path: KeyPath
    is_object: bool
    index: int = 0
    key: str | None = None
    keys: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """The data, and the 1-based line of every key and array item (by key path)."""

    data: Any
    lines: dict[KeyPath, int]


class _Scanner:
    """The single pass: blank spans, key lines, duplicates and depth."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line = 1
        self.blanks: list[tuple[int, int]] = []
        self.lines: dict[KeyPath, int] = {(): 1}
        self.open: list[_Container] = []
        self.comma: int | None = None
        self.pending_key: tuple[str, int] | None = None

    def run(self) -> str:
        text, index = self.text, 0
        while index < len(text):
            char = text[index]
            if char in " \t\r\n":
                space = _SPACE.match(text, index)
                stop = space.end() if space else index + 1
                self.line += text.count("\n", index, stop)
                index = stop
            elif text.startswith("//", index):
                stop = self._rest_of_line(index)
                self.blanks.append((index, stop))
                index = stop
            elif text.startswith("/*", index):
                index = self._block_comment(index)
            else:
                index = self._token(index, char)
        return self._blanked()

    def _block_comment(self, index: int) -> int:
        end = self.text.find("*/", index + 2)
        if end < 0:
            raise JsoncError("unterminated /* comment", self.line, "close it with */")
        self.blanks.append((index, end + 2))
        self.line += self.text.count("\n", index, end)
        return end + 2

    def _token(self, index: int, char: str) -> int:
        if char in "}]":
            if self.comma is not None:
                self.blanks.append((self.comma, self.comma + 1))
            self.comma = None
            if self.open:
                self.open.pop()
            return index + 1
        self.comma = None
        top = self.open[-1] if self.open else None
        if char == ",":
            self.comma = index
            if top is not None:
                top.index += 1
                top.key = None
            return index + 1
        if char == ":":
            self._key_done(top)
            return index + 1
        if top is not None and top.is_object and top.key is None:
            return self._key(index, top)
        path = self._value_path(top)
        if char in "{[":
            if len(self.open) >= MAX_DEPTH:
                raise JsoncError(
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.line,
                    "flatten it: no stack file nests objects and arrays that deep",
                )
            self.open.append(_Container(path, char == "{"))
            return index + 1
        if char == '"':
            match = _STRING.match(self.text, index)
            return match.end() if match else self._rest_of_line(index)
        match = _SCALAR.match(self.text, index)
        return match.end() if match else index + 1

    def _value_path(self, top: _Container | None) -> KeyPath:
        """The key path of the value starting here (its line recorded for an array item)."""
        if top is None:
            return ()
        if top.is_object:
            return (*top.path, top.key or "")
        path = (*top.path, top.index)
        self.lines.setdefault(path, self.line)
        return path

    def _key(self, index: int, top: _Container) -> int:
        match = _STRING.match(self.text, index)
        if match is None:
            return self._rest_of_line(index)
        try:
            name = json.loads(match.group())
        except ValueError:
            name = match.group()[1:-1]
        self.pending_key = (str(name), self.line)
        return match.end()

    def _key_done(self, top: _Container | None) -> None:
        if top is None or not top.is_object or self.pending_key is None:
            return
        name, line = self.pending_key
        self.pending_key = None
        if name in top.keys:
            raise JsoncError(
                f"duplicate key {name!r} (first at line {top.keys[name]}); only the last "
                "would count",
                line,
                "keep one of them",
            )
        top.keys[name] = line
        top.key = name
        self.lines[(*top.path, name)] = line

    def _rest_of_line(self, index: int) -> int:
        """Past a string that does not end on its line (the JSON parser then names it)."""
        end = self.text.find("\n", index)
        return len(self.text) if end < 0 else end

    def _blanked(self) -> str:
        if not self.blanks:
            return self.text
        pieces: list[str] = []
        done = 0
        for start, end in sorted(self.blanks):  # a trailing comma is found after later comments
            pieces.append(self.text[done:start])
            segment = self.text[start:end]
            pieces.append(re.sub(r"[^\n]", " ", segment))
            done = end
        pieces.append(self.text[done:])
        return "".join(pieces)


def parse(text: str, *, plain: bool = False) -> Parsed:
    """Parse JSONC text with the line of every key; a `JsoncError` names the line of the first
    problem. `plain`: the text must be plain JSON (no comments, no trailing commas)."""
    scanner = _Scanner(text)
    blanked = scanner.run()
    try:
        data = json.loads(text if plain else blanked)
    except json.JSONDecodeError as error:
        raise JsoncError(error.msg, error.lineno) from None
    except (ValueError, RecursionError) as error:  # e.g. an integer of 5000 digits
        raise JsoncError(str(error).split(";")[0], 1) from None
    return Parsed(data, scanner.lines)


def loads(text: str) -> Any:
    """Parse JSONC text; a `JsoncError` names the line of the first problem."""
    return parse(text).data
