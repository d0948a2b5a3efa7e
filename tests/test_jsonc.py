"""The JSONC reader: VS Code's dialect (comments, trailing commas), nothing more, and errors on
the author's own line."""

from __future__ import annotations

import pytest

from tasks.model import jsonc

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
