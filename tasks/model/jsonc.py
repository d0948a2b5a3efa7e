"""JSON with comments, as VS Code reads devcontainer.json and mcp.json: `//` and `/* */`
comments and trailing commas are allowed, nothing else beyond JSON. Comments and trailing commas
are blanked in place, so the standard `json` parser reports the author's own line and column."""

from __future__ import annotations

import json
import re
from typing import Any

_IGNORED = r"(?:\s|//[^\n]*|/\*.*?\*/)*"
_TOKEN = re.compile(
    rf'(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<comment>//[^\n]*|/\*.*?\*/)|,(?={_IGNORED}[}}\]])',
    re.DOTALL,
)


class JsoncError(ValueError):
    """Text that is not JSONC; `line` is 1-based."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(f"line {line}: {problem}")
        self.problem = problem
        self.line = line


def _blank(match: re.Match[str]) -> str:
    if match.group("string") is not None:
        return match.group()
    return re.sub(r"[^\n]", " ", match.group())


def loads(text: str) -> Any:
    """Parse JSONC text; a `JsoncError` names the line of the first problem."""
    try:
        return json.loads(_TOKEN.sub(_blank, text))
    except json.JSONDecodeError as error:
        raise JsoncError(error.msg, error.lineno) from None
