"""Env files as compose's dotenv parser reads them. Each reading below is what `docker compose
config` gives for the text (tests/integration/test_envfile_compose.py checks them against the
real compose), and each refused text is one compose refuses too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.envfile import EnvEntry, parse_env_text

# (env file text, the variables compose reads from it)
READINGS: list[tuple[str, dict[str, str]]] = [
    ("A=x #comment\n", {"A": "x"}),
    ("A=x\t#not a comment\n", {"A": "x\t#not a comment"}),
    ("A=x#not a comment\n", {"A": "x#not a comment"}),
    ("A=x   #  comment with spaces\n", {"A": "x"}),
    ("A= #value\n", {"A": "#value"}),
    ("A='x #kept'\n", {"A": "x #kept"}),
    ('A="x #kept" # comment\n', {"A": "x #kept"}),
    ("  export   A = x y  \n", {"A": "x y"}),
    ("A: yaml style\n", {"A": "yaml style"}),
    ("A=pa$$w0rd\n", {"A": "pa$w0rd"}),
    ("A='pa$$w0rd ${NOT}'\n", {"A": "pa$$w0rd ${NOT}"}),
    ('A="pa$$w0rd"\n', {"A": "pa$w0rd"}),
    (
        'A="tab\\tnewline\\nbackslash\\\\dollar\\$x unknown\\q"\n',
        {"A": "tab\tnewline\nbackslash\\dollar$x unknown\\q"},
    ),
    ("A='single\\nquote\\'s'\n", {"A": "single\\nquote's"}),
    ('A="escaped \\" quote"\n', {"A": 'escaped " quote'}),
    ('A="multi\nline" # after\nB=2\n', {"A": "multi\nline", "B": "2"}),
    ('A="x" B=y\n', {"A": "x", "B": "y"}),
    ('A="x"junk\n', {"A": "x"}),
    ("A=1\nB=${A}-${A:-d}-${C:-d}-${C-e}-${A:+set}\n", {"A": "1", "B": "1-1-d-e-set"}),
    ("A=1\r\nB=two\r\n", {"A": "1", "B": "two"}),
    ("\ufeffA=with a byte order mark\n", {"A": "with a byte order mark"}),
    ("A.B-C[0]=odd name\n", {"A.B-C[0]": "odd name"}),
    ("ÉTÉ=unicode\n", {"ÉTÉ": "unicode"}),
    ("A=trailing spaces and nbsp\xa0 \n", {"A": "trailing spaces and nbsp"}),
    ("A=\nB=\"\"\nC=''\n", {"A": "", "B": "", "C": ""}),
    ("A=1\nA=2\n", {"A": "2"}),
    ("# only a comment\n\n", {}),
    ("A=x \\\nB=y\n", {"A": "x \\", "B": "y"}),
    ("A=back`tick`\n", {"A": "back`tick`"}),
]
# (env file text compose refuses, line of our error, its problem)
REFUSED: list[tuple[str, int, str]] = [
    ("A=${B\n", 1, "unterminated ${ in the value"),
    ('A="${B"\n', 1, "unterminated ${ in the value"),
    ("A=${B:?needed}\n", 1, "required variable B is missing: needed"),
    ("A B=x\n", 1, "cannot read 'A B' as KEY=VALUE: a variable name has no spaces"),
    (
        "A$=x\n",
        1,
        "cannot read 'A$' as the start of KEY=VALUE: '$' cannot be part of a variable name",
    ),
    ('A="unterminated\n', 1, 'unterminated " quote'),
    ("A=${}\n", 1, "invalid interpolation format in the value"),
]


@pytest.mark.parametrize(("text", "reading"), READINGS)
def test_values_read_as_compose_reads_them(text: str, reading: dict[str, str]) -> None:
    assert parse_env_text(text, Path("x.env")).as_dict() == reading


@pytest.mark.parametrize(("text", "line", "problem"), REFUSED)
def test_what_compose_refuses_is_refused_on_its_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(StackError) as refused:
        parse_env_text(text, Path("x.env"))
    assert (refused.value.line, refused.value.problem) == (line, problem)


def test_each_entry_keeps_the_line_of_its_key() -> None:
    text = '# c\nA="two\nlines"\n\n  export B=1\nC="x" D=y\nKEY_ALONE\n'
    assert parse_env_text(text, Path("x.env")).entries == (
        EnvEntry("A", "two\nlines", 2),
        EnvEntry("B", "1", 5),
        EnvEntry("C", "x", 6),
        EnvEntry("D", "y", 6),
    )
