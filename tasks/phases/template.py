"""The files of the target layout in a copy of the task library that is not a git clone (an
unpacked archive): every file under the template paths that the copy's `.gitignore` files do
not exclude, which is what git would list in a clone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.model.buildcontext import glob_regex
from tasks.model.source import read_text


@dataclass(frozen=True)
class _Rule:
    """One `.gitignore` line: a pattern anchored at the copy's root, for folders only or not,
    re-including (`!`) or excluding."""

    pattern: re.Pattern[str]
    folders_only: bool
    keep: bool


def _rules(root: Path) -> list[_Rule]:
    """Every `.gitignore` line of the copy, shallower files first (a deeper file wins)."""
    rules: list[_Rule] = []
    files = sorted(root.rglob(".gitignore"), key=lambda p: len(p.relative_to(root).parts))
    for file in files:
        base = file.parent.relative_to(root).as_posix()
        prefix = "" if base == "." else f"{base}/"
        for line in read_text(file, ".gitignore").splitlines():
            text = line.rstrip()
            if not text or text.startswith("#"):
                continue
            keep = text.startswith("!")
            text = text.removeprefix("!")
            folders_only = text.endswith("/")
            text = text.strip("/") if "/" in text.rstrip("/") else f"**/{text.rstrip('/')}"
            rules.append(_Rule(glob_regex(prefix + text), folders_only, keep))
    return rules


def _ignored(relative: str, rules: list[_Rule]) -> bool:
    """Whether git leaves the file out: it, or a folder above it, matches an excluding line
    that no later line re-includes."""
    parts = relative.split("/")
    for count in range(1, len(parts) + 1):
        path, folder = "/".join(parts[:count]), count < len(parts)
        ignored = False
        for rule in rules:
            if (folder or not rule.folders_only) and rule.pattern.fullmatch(path):
                ignored = not rule.keep
        if ignored:
            return True
    return False


def listed_files(root: Path, paths: tuple[str, ...]) -> list[str]:
    """The files under `paths` (folders or files, relative to `root`) that are not ignored."""
    rules = _rules(root)
    found = []
    for path in paths:
        start = root / path
        candidates = [start] if start.is_file() else sorted(start.rglob("*"))
        for candidate in candidates:
            relative = candidate.relative_to(root).as_posix()
            if candidate.is_file() and not _ignored(relative, rules):
                found.append(relative)
    return sorted(found)
