"""Secrets moved into `.devcontainer/.env` keep their exact bytes: each value is written in the
one form compose's env-file parser reads back unchanged (the real parser's round trip is in
tests/integration/test_compose_config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.envfile import parse_env_text
from tasks.model.envquote import env_line, quote_env_value

# Every value that leaves a user's file, with the form it is written in.
FORMS = [
    ("ghp_0123abc", "ghp_0123abc"),
    ("a=b:c/d.e-f+g,h@i%j", "a=b:c/d.e-f+g,h@i%j"),
    ("", ""),
    ("pa$$w0rd", "'pa$$w0rd'"),
    ('"s3cret #1"', "'\"s3cret #1\"'"),
    ("a #b", "'a #b'"),
    ("a#b", "'a#b'"),
    ("  lead", "'  lead'"),
    ("trail  ", "'trail  '"),
    ("é ü 日本", "'é ü 日本'"),
    ("back\\slash", "'back\\slash'"),
    ("${HOME}", "'${HOME}'"),
    ("a'b\"c", "a'b\"c"),
    ("a'$b", "a'$$b"),
    ("x\\", "x\\"),
    ("ends'\\", "ends'\\"),
    (" a'b ", '" a\'b "'),
    ("a'b #c", '"a\'b #c"'),
    ("'lead", '"\'lead"'),
    ("nl\nx", '"nl\\nx"'),
    ("a'\\\"$x\n", '"a\'\\\\\\"$$x\\n"'),
]


@pytest.mark.parametrize(("value", "written"), FORMS)
def test_each_value_is_written_in_the_form_compose_reads_back(value: str, written: str) -> None:
    assert quote_env_value(value) == written
    assert env_line("K", value) == f"K={written}"


@pytest.mark.parametrize(("value", "written"), FORMS)
def test_the_library_reads_the_written_value_back(value: str, written: str) -> None:
    assert parse_env_text(f"K={written}\nL=1\n", Path(".env")).as_dict() == {"K": value, "L": "1"}
