"""The JSONC reader: VS Code's dialect (comments, trailing commas), nothing more, and errors on
the author's own line."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from tasks.model import jsonc
from tests.clirun import REPO

TEXT = """{
  // a line comment with "quotes", and a comma,
  "url": "http://example/*not a comment*/", /* block
  comment */ "list": [1, 2,],
  "text": "// kept, ]",
  "escaped": "a \\" // b",
}
"""


def test_comments_and_trailing_commas_are_read_and_strings_are_untouched() -> None:
    assert jsonc.loads(TEXT) == {
        "url": "http://example/*not a comment*/",
        "list": [1, 2],
        "text": "// kept, ]",
        "escaped": 'a " // b',
    }


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{\n  "a": 1\n  "b": 2\n}', 3),
        ("{\n  'single': 1\n}", 2),
        ('{\n  "a": [1,,]\n}', 2),
        ('{\n  "a": 1 /* open\n}', 2),
        ("[\n  1,\n  unquoted\n]", 3),
    ],
)
def test_what_is_not_jsonc_is_refused_on_its_line(text: str, line: int) -> None:
    with pytest.raises(jsonc.JsoncError) as error:
        jsonc.loads(text)
    assert error.value.line == line


def _members(count: int) -> str:
    """A large, valid document: comments, commas before closing brackets, comment markers
    inside strings."""
    rows = "".join(
        f'  "k{i}": [1, "a /* not a comment", {{"b": {i},}},], // note {i}\n/* block\n */'
        for i in range(count)
    )
    return "{\n" + rows + '  "end": true,\n}\n'


def _commas_before_open_comments(count: int) -> str:
    """Every comma followed by a comment that never ends: a backtracking scan rereads the rest
    of the text at each one."""
    return "[" + "0,/*" * count


def _unterminated_strings(count: int) -> str:
    return "{\n" + '  "k": "no end\\\\\\\\ \n' * count + "}"


def _steps(text: str) -> int:
    """Lines of Python the scan executes: a measure of its work that does not depend on the
    machine's speed."""
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        with contextlib.suppress(jsonc.JsoncError):
            jsonc.parse(text)
    finally:
        sys.settrace(None)
    return count


def _seconds(text: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(jsonc.JsoncError):
        jsonc.parse(text)
    return time.perf_counter() - started


@pytest.mark.parametrize("make", [_members, _commas_before_open_comments, _unterminated_strings])
def test_scanning_grows_linearly_with_the_text(make: Callable[[int], str]) -> None:
    small, large = make(500), make(2000)
    steps = _steps(small), _steps(large)
    seconds = _seconds(small), _seconds(large)
    print(
        f"{make.__name__}: {len(large) / len(small):.1f}x the text, "
        f"{steps[1] / steps[0]:.2f}x the steps, {seconds[1] / seconds[0]:.2f}x the time"
    )
    assert steps[1] <= 1.05 * steps[0] * len(large) / len(small)


def test_a_pathological_document_is_refused_at_once() -> None:
    """200 kB of commas before comments that never end: a backtracking scan takes hours."""
    script = (
        "from tasks.model import jsonc\n"
        "try:\n    jsonc.loads('[' + '0,/*' * 50_000)\n"
        "except jsonc.JsoncError as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == "line 1: unterminated /* comment\n", result.stderr


def test_the_line_of_every_key_and_array_item() -> None:
    text = '{\n  "a": [\n    1,\n    {"b": "x"},\n  ],\n  "c\\"d": {"e": [[2]]}, // note\n}\n'
    assert jsonc.parse(text).lines == {
        (): 1,
        ("a",): 2,
        ("a", 0): 3,
        ("a", 1): 4,
        ("a", 1, "b"): 4,
        ('c"d',): 6,
        ('c"d', "e"): 6,
        ('c"d', "e", 0): 6,
        ('c"d', "e", 0, 0): 6,
    }


DEEP = "flatten it: no stack file nests objects and arrays that deep"


@pytest.mark.parametrize(
    ("text", "line", "problem", "fix"),
    [
        (
            '{\n "a": 1,\n "b": {"a": 2},\n "a": 3\n}',
            4,
            "duplicate key 'a' (first at line 2); only the last would count",
            "keep one of them",
        ),
        ("[" * 65 + "]" * 65, 1, "nested more than 64 levels deep", DEEP),
        ('{"a":\n' * 65 + "1" + "}" * 65, 65, "nested more than 64 levels deep", DEEP),
        ("[1,\n/* open", 2, "unterminated /* comment", "close it with */"),
    ],
)
def test_structure_problems_are_refused_before_parsing(
    text: str, line: int, problem: str, fix: str
) -> None:
    with pytest.raises(jsonc.JsoncError) as refused:
        jsonc.parse(text)
    assert (refused.value.line, refused.value.problem, refused.value.fix) == (line, problem, fix)


def test_nesting_up_to_the_limit_and_trailing_commas_after_comments() -> None:
    deepest = "[" * 64 + "]" * 64
    assert jsonc.loads(deepest) == json.loads(deepest)
    assert jsonc.loads("[1, // one\n /* two */ ]") == [1]
    assert jsonc.loads('{"a": {"b": 1,},}') == {"a": {"b": 1}}
