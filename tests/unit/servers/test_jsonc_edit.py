"""The JSONC editor's exact output: indentation, commas, comments, strings and the edges of a
document (what `invoke mcp.config` and the phases write into hand-edited files)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.servers.jsonc_edit import PathNotFound, delete_key, replace_value, set_value

NESTED = '{\n  "a": {\n    "b": 1\n  }\n}\n'


@pytest.mark.parametrize(
    ("text", "keys", "value", "expected"),
    [
        # a multi-line value is indented like the line it starts on
        (
            NESTED,
            ("a", "b"),
            {"x": [1]},
            '{\n  "a": {\n    "b": {\n      "x": [\n        1\n      ]\n    }\n  }\n}\n',
        ),
        ('\n{"a": 1}', ("a",), [1], '\n{"a": [\n  1\n]}'),
        # compact text: no space after ':' or ','
        ('{"a":1,"b":2}', ("b",), 3, '{"a":1,"b":3}'),
        ('{"a": 123,"b": 2}', ("b",), 3, '{"a": 123,"b": 3}'),
        # strings: empty, escaped quote, escape at the end, spaces, brackets inside
        ('{"a": "", "b": 1}', ("b",), 2, '{"a": "", "b": 2}'),
        ('{"a": "x\\"y", "b": 1}', ("b",), 2, '{"a": "x\\"y", "b": 2}'),
        ('{"a": "x\\n", "b": 1}', ("b",), 2, '{"a": "x\\n", "b": 2}'),
        ('{"a": "p q", "b": 1}', ("a",), "r", '{"a": "r", "b": 1}'),
        ('{"a": [1, "]", {"c": "}"}], "b": 1}', ("a",), [], '{"a": [], "b": 1}'),
        # comments: block comments touching the next token, back to back, empty; line comment
        ('{/* a */"x": /* b */1}', ("x",), 2, '{/* a */"x": /* b */2}'),
        ('{/* a *//* b */"x": 1}', ("x",), 2, '{/* a *//* b */"x": 2}'),
        ('{/**/"x": 1}', ("x",), 2, '{/**/"x": 2}'),
        ('{ // c\n  "x": 1}', ("x",), 2, '{ // c\n  "x": 2}'),
        # no keys: the whole document
        ("1", (), 2, "2"),
        ('{"a": 1}', (), [2], "[\n  2\n]"),
    ],
)
def test_replace_value_writes_exactly(
    text: str, keys: tuple[str, ...], value: Any, expected: str
) -> None:
    assert replace_value(text, keys, value) == expected


@pytest.mark.parametrize(
    ("text", "keys", "value", "expected"),
    [
        # into a multi-line object: first member, comma, the object's indentation plus two
        ('{\n  "a": 1\n}\n', ("b",), 2, '{\n  "b": 2,\n  "a": 1\n}\n'),
        # what follows the brace on its line stays there; members keep their own indentation
        ('{ // c\n  "a": 1\n}', ("b",), 2, '{\n  "b": 2, // c\n  "a": 1\n}'),
        ('{\n    "a": 1\n}', ("b",), 2, '{\n  "b": 2,\n    "a": 1\n}'),
        # into a one-line object: it opens onto lines
        ("{}", ("a",), 1, '{\n  "a": 1\n}'),
        ('{"x": 1}', ("a",), 2, '{\n  "a": 2,\n  "x": 1}'),
        ('{\n  "o": {"x": 1}\n}', ("o", "a"), 2, '{\n  "o": {\n    "a": 2,\n    "x": 1}\n}'),
        ('{\n  "o": {}\n}', ("o", "a"), 2, '{\n  "o": {\n    "a": 2\n  }\n}'),
        # missing objects on the way are created
        (
            '{\n  "o": {}\n}',
            ("o", "p", "q"),
            1,
            '{\n  "o": {\n    "p": {\n      "q": 1\n    }\n  }\n}',
        ),
        # present: replaced in place
        (NESTED, ("a", "b"), 2, '{\n  "a": {\n    "b": 2\n  }\n}\n'),
    ],
)
def test_set_value_writes_exactly(
    text: str, keys: tuple[str, ...], value: Any, expected: str
) -> None:
    assert set_value(text, keys, value) == expected


@pytest.mark.parametrize(
    ("text", "keys", "expected"),
    [
        # a member on its own line goes with its line
        ('{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n', ("b",), '{\n  "a": 1,\n  "c": 3\n}\n'),
        ('{\n  "a": 1,\n  "b": 2\n}\n', ("a",), '{\n  "b": 2\n}\n'),
        # the last member takes the comma before it
        ('{\n  "a": 1,\n  "b": 2\n}\n', ("b",), '{\n  "a": 1\n}\n'),
        ('{"a": 1, "b": 2}', ("b",), '{"a": 1}'),
        # the only member
        ('{"a": 1}', ("a",), "{}"),
        # a member sharing its line with the brace keeps the brace
        ('\n{"a": 1,\n"b": 2}', ("a",), '\n{\n"b": 2}'),
        # absent, or a truncated document: unchanged
        ('{"a": 1}', ("z",), '{"a": 1}'),
        ("{", ("a",), "{"),
        ('{"a": 1,', ("b",), '{"a": 1,'),
        ("{ // c", ("a",), "{ // c"),
        ("{ /* c", ("a",), "{ /* c"),
    ],
)
def test_delete_key_writes_exactly(text: str, keys: tuple[str, ...], expected: str) -> None:
    assert delete_key(text, keys) == expected


def test_a_missing_key_is_named() -> None:
    with pytest.raises(PathNotFound) as missing:
        replace_value('{"a": {}}', ("a", "nope"), 2)
    assert missing.value.args[0] == "nope"


def test_setting_below_a_value_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PathNotFound) as refused:
        set_value('{"a": 1}', ("a", "b"), 2)
    assert refused.value.args[0] == "b"
