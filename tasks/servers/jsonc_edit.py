"""Edit values inside a JSONC text, keeping its comments and the rest of the layout."""

from __future__ import annotations

import json
from typing import Any


class PathNotFound(KeyError):
    """The key path is not in the document."""


def _skip(text: str, index: int) -> int:
    """Index of the next significant character (whitespace and comments skipped)."""
    while index < len(text):
        if text[index].isspace():
            index += 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end + 1
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = len(text) if end < 0 else end + 2
        else:
            return index
    return index


def _string_end(text: str, index: int) -> int:
    index += 1
    while text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index + 1


def _value_end(text: str, index: int) -> int:
    """Index just past the value that starts at `index`."""
    if text[index] == '"':
        return _string_end(text, index)
    if text[index] in "{[":
        depth = 0
        while True:
            index = _skip(text, index)
            char = text[index]
            if char == '"':
                index = _string_end(text, index)
                continue
            if char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
    while index < len(text) and text[index] not in ",}] \n\t\r/":
        index += 1
    return index


def _find_member(text: str, start: int, key: str) -> tuple[int, int]:
    """In the object starting at `start`: where `key`'s member starts and where its value does."""
    index = _skip(text, start + 1)
    while index < len(text) and text[index] != "}":
        member = index
        end = _string_end(text, index)
        name = json.loads(text[index:end])
        index = _skip(text, end)
        index = _skip(text, index + 1)  # past ':'
        if name == key:
            return member, index
        index = _skip(text, _value_end(text, index))
        if text[index] == ",":
            index = _skip(text, index + 1)
    raise PathNotFound(key)


def _indent_at(text: str, index: int) -> int:
    line_start = text.rfind("\n", 0, index) + 1
    return len(text[line_start:index]) - len(text[line_start:index].lstrip())


def _render(value: Any, indent: int) -> str:
    return json.dumps(value, indent=2).replace("\n", "\n" + " " * indent)


def _descend(text: str, keys: tuple[str, ...]) -> tuple[int, int, int]:
    """(object start, member start, value start) of the last key; PathNotFound names the first
    missing key and carries the deepest object found in `.args[1]`."""
    index = _skip(text, 0)
    member = index
    parent = index
    for depth, key in enumerate(keys):
        if text[index] != "{":
            raise PathNotFound(key, None)
        parent = index
        try:
            member, index = _find_member(text, index, key)
        except PathNotFound:
            raise PathNotFound(key, (parent, depth)) from None
    return parent, member, index


def replace_value(text: str, keys: tuple[str, ...], value: Any) -> str:
    """`text` with the value at `keys` replaced by `value` (JSON, indented to fit)."""
    _, _, index = _descend(text, keys)
    end = _value_end(text, index)
    return text[:index] + _render(value, _indent_at(text, index)) + text[end:]


def set_value(text: str, keys: tuple[str, ...], value: Any) -> str:
    """`text` with `keys` set to `value`: replaced where present, else added to the deepest
    object that exists (as its first member)."""
    try:
        return replace_value(text, keys, value)
    except PathNotFound as missing:
        if missing.args[1] is None:
            raise
        parent, depth = missing.args[1]
    for key in reversed(keys[depth + 1 :]):
        value = {key: value}
    indent = _indent_at(text, parent) + 2
    following = _skip(text, parent + 1)
    member = f"\n{' ' * indent}{json.dumps(keys[depth])}: {_render(value, indent)}"
    if text[following] != "}":
        member += ","
    if "\n" in text[parent:following]:
        return text[: parent + 1] + member + text[parent + 1 :]
    member += "\n" + " " * (indent - (2 if text[following] == "}" else 0))
    return text[: parent + 1] + member + text[following:]


def delete_key(text: str, keys: tuple[str, ...]) -> str:
    """`text` without the member at `keys` (unchanged when it is absent)."""
    try:
        _, member, index = _descend(text, keys)
    except PathNotFound:
        return text
    end = _value_end(text, index)
    after = _skip(text, end)
    if text[after] == ",":
        end = after + 1
        line_start = text.rfind("\n", 0, member)
        if line_start >= 0 and not text[line_start:member].strip():
            member = line_start
    else:
        before = text[:member].rstrip()
        member = len(before) - 1 if before.endswith(",") else member
    return text[:member] + text[end:]
