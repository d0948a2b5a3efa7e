"""`.mcpignore` reads a pattern the way git reads `.gitignore`: for each pattern, git's own
`check-ignore` decides every path of a corpus, and the launcher's matcher must decide the same
(the last line that matches a path or a folder above it hides it, unless that line starts
with `!`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tasks.model.masks import matcher

mcpignore = matcher()

# Each path of the corpus, separated by spaces; a trailing `/` makes it a folder.
PATHS = r"""
.env a/b/.env .environment x.env a/.env .devcontainer/.env backups/ deep/backups/ backups.txt
a/b/c.key a/c.key id_rsa id_rrsa a.pem c.pem ] a b - ^ [ \ [ab []x x/y/secrets/ a/b/ a/x/y/b/
TAX TA BOX/ BO/ xby x-y z #literal !bang a*b axb .env.example .env.local 7 x7 x: back\ back
""".split()  # noqa: SIM905 (a word list reads better than 45 quoted strings)
# Each pattern (its lines separated by `;`): the kinds of the gitignore syntax and their edges.
PATTERNS = r"""
.env /.env .devcontainer/.env backups/ *.key a/*.key id_?sa [ab].pem [!ab].pem [^ab].pem
**/secrets a/**/b a/** .env*;!.env.example \#literal \!bang a\*b [ab TAX BOX/ X/ []a] [!]]
[a\]b] []] [[] [a^] [\-] [a-c] [a-] [-a] x[!a]y x[a-z]y [z-a] *;!a;!b ** **/b a/**/ ?
[[:digit:]] x[[:digit:][:punct:]] [![:alpha:]] [[:nope:]] [[:digit:] [a-[:digit:]] [[:x] back\
[!a-c] [a-c-e] [\a-\c] x[!-] [?*] [\]] [\
""".split()  # noqa: SIM905


def git_hides(root: Path, pattern: str) -> dict[str, bool]:
    """git's verdict on each path: hidden when the last line that matches it is no `!` line."""
    (root / ".gitignore").write_text(pattern.replace(";", "\n") + "\n")
    listed = "".join(p.rstrip("/") + "\0" for p in PATHS)
    out = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],
        input=listed,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\0")
    # -z -v -n: the source, line number, pattern and path of each path, NUL-terminated
    return {
        path: bool(text) and not text.startswith("!")
        for text, path in zip(out[2::4], out[3::4], strict=False)
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path_factory.mktemp("corpus")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for rel in PATHS:
        path = root / rel.rstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith("/"):
            path.mkdir(exist_ok=True)
        elif not path.exists():
            path.write_text("x")
    return root


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_path_is_decided_as_git_decides_it(corpus: Path, pattern: str) -> None:
    patterns = mcpignore.parse(pattern.replace(";", "\n"))
    ours = {
        path.rstrip("/"): mcpignore.masked(patterns, path.rstrip("/"), path.endswith("/"))
        for path in PATHS
    }
    assert ours == git_hides(corpus, pattern)
