"""`.mcpignore`: gitignore syntax, matched the way the launcher masks the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.model.masks import matcher

mcpignore = matcher()


@pytest.mark.parametrize(
    ("lines", "path", "folder", "hidden"),
    [
        # a name without a slash matches at any depth, files and folders
        (".env", ".env", False, True),
        (".env", "a/b/.env", False, True),
        (".env", ".environment", False, False),
        (".env", "x.env", False, False),
        # a leading or inner slash anchors to the root
        ("/.env", "a/.env", False, False),
        ("/.env", ".env", False, True),
        (".devcontainer/.env", ".devcontainer/.env", False, True),
        (".devcontainer/.env", "x/.devcontainer/.env", False, False),
        # a trailing slash matches folders only
        ("backups/", "backups", True, True),
        ("backups/", "backups", False, False),
        ("backups/", "deep/backups", True, True),
        # wildcards stay within one path segment
        ("*.key", "a/b/c.key", False, True),
        ("a/*.key", "a/b/c.key", False, False),
        ("a/*.key", "a/c.key", False, True),
        ("id_?sa", "id_rsa", False, True),
        ("id_?sa", "id_rrsa", False, False),
        ("[ab].pem", "a.pem", False, True),
        ("[!ab].pem", "a.pem", False, False),
        ("[!ab].pem", "c.pem", False, True),
        # ** across segments
        ("**/secrets", "x/y/secrets", True, True),
        ("a/**/b", "a/b", True, True),
        ("a/**/b", "a/x/y/b", True, True),
        ("a/**", "a/x/y", False, True),
        ("a/**", "a", True, False),
        # negation: the last matching line decides
        (".env*\n!.env.example", ".env.example", False, False),
        (".env*\n!.env.example", ".env.local", False, True),
        ("!.env.example\n.env*", ".env.example", False, True),
        # comments, blanks, escapes and trailing spaces
        ("# .env\n\n", ".env", False, False),
        ("\\#literal", "#literal", False, True),
        ("\\!bang", "!bang", False, True),
        (".env   ", ".env", False, True),
        ("a\\*b", "a*b", False, True),
        ("a\\*b", "axb", False, False),
        # the edges: an escaped trailing space stays, a bare slash names nothing, `^` negates
        # a class like `!`, an unclosed `[` matches nothing (as in git), `**` first or alone spans any depth
        ("a\\ ", "a ", False, True),
        ("a\\ ", "a", False, False),
        ("/", "x", True, False),
        ("/\n*.key", "a.key", False, True),
        ("X/y", "X/y", False, True),
        ("X/y", "y", False, False),
        ("back\\", "back\\", False, False),
        ("back\\", "back", False, False),
        ("!", "x", False, False),
        ("[^ab].pem", "a.pem", False, False),
        ("[^ab].pem", "c.pem", False, True),
        ("[ab", "[ab", False, False),
        ("[ab", "a", False, False),
        ("**", "any/thing/here", False, True),
        ("**/x", "x", False, True),
        ("a/**", "a/b", True, True),
        ("*", "a/b/c", False, True),
        ("x*", "y/x1\nx", False, True),
        ("dir/", "dir/file", False, True),
        ("deep/a", "x/deep/a", False, False),
    ],
)
def test_a_pattern_hides_what_gitignore_would(
    lines: str, path: str, folder: bool, hidden: bool
) -> None:
    patterns = mcpignore.parse(lines)
    assert mcpignore.masked(patterns, path, folder) is hidden


def test_a_path_inside_a_hidden_folder_cannot_be_shown_again() -> None:
    patterns = mcpignore.parse("backups/\n!backups/keep.txt\n")
    assert mcpignore.masked(patterns, "backups/keep.txt", False)
    deep = mcpignore.parse("/a/b\n")
    assert mcpignore.masked(deep, "a/b/c/d.txt", False)
    assert not mcpignore.masked(deep, "a/bc/d.txt", False)
    assert mcpignore.decide(patterns, "backups/keep.txt", False) is None


def test_each_pattern_knows_its_line_and_whether_it_names_one_path() -> None:
    patterns = mcpignore.parse("# head\n/backups/\n*.key\n.env\n")
    assert [(p.line, p.text, p.anchored, p.literal) for p in patterns] == [
        (2, "/backups/", True, True),
        (3, "*.key", False, False),
        (4, ".env", False, True),
    ]
    assert patterns[0].folders_only and not patterns[1].folders_only


def test_matches_walks_the_workspace_outermost_first(tmp_path: Path) -> None:
    for rel in (".devcontainer/.env", "backups/a/manifest.json", "src/x.key", ".git/.env"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    os.symlink(tmp_path / "src/x.key", tmp_path / "link.key")
    patterns = mcpignore.parse(".env\n/backups/\n*.key\n")
    found = sorted(
        (m.rel, m.is_folder, m.pattern.line) for m in mcpignore.matches(tmp_path, patterns)
    )
    # backups/ is hidden whole (nothing inside listed), links are left alone, .git is not entered
    assert found == [
        (".devcontainer/.env", False, 1),
        ("backups", True, 2),
        ("src/x.key", False, 3),
    ]
    assert list(mcpignore.matches(tmp_path, [])) == []


def test_read_finds_the_file_at_the_workspace_root(tmp_path: Path) -> None:
    assert mcpignore.read(tmp_path) == []
    (tmp_path / ".mcpignore").write_text("/backups/\n")
    assert [p.text for p in mcpignore.read(tmp_path)] == ["/backups/"]


def test_what_each_line_becomes() -> None:
    [escaped, negated, folder] = mcpignore.parse("\\#x  \n  \n!/a/b/\nlogs/\n")
    assert (escaped.line, escaped.text, escaped.negated) == (1, "\\#x", False)
    assert (negated.line, negated.negated, negated.anchored, negated.folders_only) == (
        3,
        True,
        True,
        True,
    )
    assert (folder.line, folder.anchored, folder.folders_only) == (4, False, True)
    assert [p.literal for p in mcpignore.parse("a\\*\nb?\nc[x]\nd\n")] == [
        True,
        False,
        False,
        True,
    ]
    assert (mcpignore.FILE_NAME, mcpignore.NOT_ENTERED) == (".mcpignore", ".git")


def test_an_unreadable_folder_is_skipped_and_the_rest_walked(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".env").write_text("x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / ".env").write_text("x")
    (tmp_path / "a").chmod(0)
    try:
        found = [m.rel for m in mcpignore.matches(tmp_path, mcpignore.parse(".env\n"))]
    finally:
        (tmp_path / "a").chmod(0o755)
    assert "b/.env" in found
