"""What a build context sends, by the engine's .dockerignore rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.buildcontext import BuildContext


@pytest.fixture
def context(tmp_path: Path) -> BuildContext:
    for name in ("Dockerfile", "a/b/c.sh", "a/b/d.txt", "a/e.sh", "keep/x.py", "node_modules/m.js"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    return BuildContext(tmp_path)


def ignore(context: BuildContext, text: str) -> None:
    (context.root / ".dockerignore").write_text(text)


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        ("", "a/b/c.sh", False),
        ("# a comment\n\n", "a/b/c.sh", False),
        ("a\n", "a/b/c.sh", True),  # a folder excludes what is under it
        ("/a/\n", "a/b/c.sh", True),
        ("./a\n", "a/e.sh", True),
        ("*\n", "a/b/c.sh", True),
        ("*\n!a/b/c.sh\n", "a/b/c.sh", False),
        ("*\n!a/b/c.sh\n", "a/b/d.txt", True),
        ("!a/b/c.sh\n*\n", "a/b/c.sh", True),  # the last matching line decides
        ("a/*.sh\n", "a/e.sh", True),
        ("a/*.sh\n", "a/b/c.sh", False),  # * stays within one segment
        ("a/**/*.sh\n", "a/b/c.sh", True),
        ("**/*.js\n", "node_modules/m.js", True),
        ("a/?.sh\n", "a/e.sh", True),
        ("a/??.sh\n", "a/e.sh", False),
        ("a/b.c\n", "a/bxc", False),  # a dot is a dot
        ("*\n!**/*.sh\n", "a/e.sh", False),
        ("*\n!**/*.js\n", "x.js", False),  # **/ also matches no folder at all
        ("**/*.js\n", "x.js", True),
        ("a/[bc]/c.sh\n", "a/b/c.sh", True),
        ("a/[!b]/c.sh\n", "a/b/c.sh", False),
        ("a/\\*.sh\n", "a/e.sh", False),  # an escaped * is a literal star
    ],
)
def test_exclusion_follows_the_engine(
    context: BuildContext, patterns: str, path: str, excluded: bool
) -> None:
    ignore(context, patterns)
    assert context.excluded(path) is excluded


def test_missing_names_why(context: BuildContext) -> None:
    ignore(context, "*\n!a/b\n")
    assert context.missing("a/b/c.sh") is None
    assert context.missing("./a/b/c.sh") is None
    assert context.missing("a/e.sh") == "is excluded by .dockerignore"
    assert context.missing("a/nope.sh") == "does not exist"
    assert context.missing("a/b/*.sh") is None
    assert context.missing("a/*.sh") == "matches no file sent to the build"
    assert context.missing(".") is None


def test_a_folder_is_sent_when_one_file_under_it_is(context: BuildContext) -> None:
    ignore(context, "*\n!a/b\n")
    assert context.missing("a") is None
    assert context.missing("keep") == "is excluded by .dockerignore"
    assert context.missing("?") is None  # a wildcard that matches folder a
    assert context.missing("k*") == "matches no file sent to the build"  # a folder, all excluded


def test_the_dockerfiles_own_ignore_file_wins(context: BuildContext) -> None:
    ignore(context, "*\n")
    (context.root / "Dockerfile.dockerignore").write_text("node_modules\n")
    own = BuildContext(context.root, context.root / "Dockerfile")
    assert own.missing("a/e.sh") is None and own.excluded("node_modules/m.js")
    assert context.missing("a/e.sh") == "is excluded by .dockerignore"
