"""The template of a copy that is not a git clone: the files git itself would list, read from
small trees whose `.gitignore` files exercise each kind of line. git is the oracle: each tree
is also made a repository, and `git ls-files --others --exclude-standard` lists it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.phases.template import listed_files
from tests.legacy_fixture import git
from tests.tree import write_tree

# Files every tree holds, besides its `.gitignore` files: names that one line or another of
# the cases below excludes, re-includes or must leave alone.
FILES = (
    "a.log",
    "keep.log",
    "notes.txt",
    "logs",
    "build/out.bin",
    "src/build/gen.py",
    "src/logs/today.txt",
    "src/main.py",
    "src/cache.tmp",
    "src/important.tmp",
    "docs/guide.txt",
    "docs/deep/guide.txt",
    "vendor/lib/keep.me",
    "vendor/lib/drop.me",
    "#literal",
)

CASES = {
    "no .gitignore at all": {},
    "blank lines, comments and trailing spaces": {".gitignore": "\n# a.log\n   \nnotes.txt   \n"},
    "a name matches at any depth": {".gitignore": "*.tmp\nbuild\n"},
    "a leading slash anchors at the root": {".gitignore": "/build\n"},
    "a slash inside anchors too": {".gitignore": "docs/*.txt\n"},
    "a trailing slash matches folders only": {".gitignore": "logs/\n"},
    "a later ! re-includes": {".gitignore": "*.log\n!keep.log\n"},
    "a ! before the line it would undo does nothing": {".gitignore": "!keep.log\n*.log\n"},
    "nothing is re-included under an excluded folder": {".gitignore": "vendor/\n!keep.me\n"},
    "a folder's contents excluded, one file kept": {
        ".gitignore": "vendor/lib/*\n!vendor/lib/keep.me\n"
    },
    "** crosses folders": {".gitignore": "**/guide.txt\n"},
    "a deeper file applies below its folder only": {"src/.gitignore": "*.tmp\nbuild/\n"},
    "a deeper file wins over the root's": {
        ".gitignore": "*.tmp\n",
        "src/.gitignore": "!important.tmp\n",
    },
    "a deeper file's slash anchors at its folder": {"src/.gitignore": "/logs\n"},
    "the .gitignore files themselves can be excluded": {".gitignore": ".gitignore\n*.log\n"},
}


def _tree(root: Path, ignores: dict[str, str]) -> Path:
    write_tree(root, {**{name: "x\n" for name in FILES}, **ignores})
    return root


def _git_lists(root: Path) -> list[str]:
    """What git lists in the same tree made a repository (nothing committed)."""
    git(root, "init", "-q")
    listed = git(root, "ls-files", "-z", "--others", "--exclude-standard")
    return sorted(name for name in listed.split("\0") if name and not name.startswith(".git/"))


@pytest.mark.parametrize("ignores", CASES.values(), ids=CASES.keys())
def test_a_copy_lists_what_git_lists(tmp_path: Path, ignores: dict[str, str]) -> None:
    copy = _tree(tmp_path / "copy", ignores)
    expected = _git_lists(_tree(tmp_path / "clone", ignores))
    assert listed_files(copy, (".",)) == expected
    assert listed_files(copy, ("src", "notes.txt")) == [
        name for name in expected if name.startswith("src/") or name == "notes.txt"
    ]


def test_only_the_paths_asked_for_are_listed(tmp_path: Path) -> None:
    copy = _tree(tmp_path, {".gitignore": "*.log\n"})
    assert listed_files(copy, ("docs", "keep.log", "#literal")) == [
        "#literal",
        "docs/deep/guide.txt",
        "docs/guide.txt",
    ]
    assert listed_files(copy, ("absent",)) == []
