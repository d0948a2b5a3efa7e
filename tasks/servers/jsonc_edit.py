"""Replace one value inside a JSONC text, keeping its comments and the rest of the layout."""

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


def _find_key(text: str, start: int, key: str) -> int:
    """In the object starting at `start`, the index of `key`'s value."""
    index = _skip(text, start + 1)
    while index < len(text) and text[index] != "}":
        end = _string_end(text, index)
        name = json.loads(text[index:end])
        index = _skip(text, end)
        index = _skip(text, index + 1)  # past ':'
        if name == key:
            return index
        index = _skip(text, _value_end(text, index))
        if text[index] == ",":
            index = _skip(text, index + 1)
    raise PathNotFound(key)


def replace_value(text: str, keys: tuple[str, ...], value: Any) -> str:
    """`text` with the value at `keys` replaced by `value` (JSON, indented to fit)."""
    index = _skip(text, 0)
    for key in keys:
        if text[index] != "{":
            raise PathNotFound(key)
        index = _find_key(text, index, key)
    end = _value_end(text, index)
    line_start = text.rfind("\n", 0, index) + 1
    indent = len(text[line_start:index]) - len(text[line_start:index].lstrip())
    rendered = json.dumps(value, indent=2).replace("\n", "\n" + " " * indent)
    return text[:index] + rendered + text[end:]
