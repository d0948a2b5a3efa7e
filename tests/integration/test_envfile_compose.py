"""The env-file parser reads what compose reads: tricky values round-tripped through the real
`docker compose config` (a throwaway compose file, no container started)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tasks.model.envfile import parse_env_text
from tasks.model.errors import StackError

pytestmark = pytest.mark.integration

# Env files compose reads without the shell's help (no variable it would take from there).
TEXTS = [
    "A=x #comment\n",
    "A=x\t#not a comment\n",
    "A=x#not a comment\n",
    "A=x   #  comment with spaces\n",
    "A= #value\n",
    "A='x #kept'\n",
    'A="x #kept" # comment\n',
    "  export   A = x y  \n",
    "A: yaml style\n",
    "A=pa$$w0rd\n",
    "A='pa$$w0rd ${NOT}'\n",
    'A="pa$$w0rd"\n',
    'A="tab\\tnewline\\nbackslash\\\\dollar\\$x unknown\\q"\n',
    "A='single\\nquote\\'s'\n",
    'A="escaped \\" quote"\n',
    'A="multi\nline" # after\nB=2\n',
    'A="x" B=y\n',
    'A="x"junk\n',
    "A=1\nB=${A}-${A:-d}-${C:-d}-${C-e}-${A:+set}\n",
    "A=1\r\nB=two\r\n",
    "\ufeffA=with a byte order mark\n",
    "A.B-C[0]=odd name\n",
    "\u00c9T\u00c9=unicode\n",
    "A=trailing spaces and nbsp\u00a0 \n",
    "A=\nB=\"\"\nC=''\n",
    "A=1\nA=2\n",
    "# only a comment\n\n",
    "A=x \\\nB=y\n",
    "A=back`tick`\n",
]
# Env files compose refuses.
REFUSED = [
    "A=${B\n",
    'A="${B"\n',
    "A=${B:?needed}\n",
    "A B=x\n",
    "A$=x\n",
    'A="unterminated\n',
    "A=${}\n",
]


def _compose_environment(tmp_path: Path, text: str) -> dict[str, str] | None:
    """The environment `docker compose config` gives a service reading `text` as its env file
    (None when compose refuses the file)."""
    (tmp_path / "x.env").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "c.yml").write_text("services:\n  s:\n    image: x\n    env_file: [x.env]\n")
    result = subprocess.run(
        ["docker", "compose", "-f", str(tmp_path / "c.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
        check=False,
    )
    if result.returncode != 0:
        return None
    environment = json.loads(result.stdout)["services"]["s"].get("environment") or {}
    # `config` writes a literal $ as $$ so that its output reads back the same.
    return {key: value.replace("$$", "$") for key, value in environment.items()}


@pytest.mark.parametrize("text", TEXTS)
def test_values_read_as_compose_reads_them(tmp_path: Path, text: str) -> None:
    assert parse_env_text(text, Path("x.env")).as_dict() == _compose_environment(tmp_path, text)


@pytest.mark.parametrize("text", REFUSED)
def test_what_compose_refuses_is_refused(tmp_path: Path, text: str) -> None:
    assert _compose_environment(tmp_path, text) is None
    with pytest.raises(StackError):
        parse_env_text(text, Path("x.env"))
