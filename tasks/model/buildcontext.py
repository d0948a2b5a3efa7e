"""What a build context sends to BuildKit: its files minus those `.dockerignore` excludes.

The patterns follow the engine's rules: paths relative to the context root, `*` and `?` within
one path segment, `**` across segments, `!` re-including, the last matching line deciding, and a
pattern that matches a folder excluding everything under it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path


def _regex(pattern: str) -> re.Pattern[str]:
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out))


def _clean(pattern: str) -> str:
    parts = [part for part in pattern.strip().split("/") if part not in ("", ".")]
    return "/".join(parts)


@dataclass(frozen=True)
class BuildContext:
    """A build context folder and its `.dockerignore`."""

    root: Path

    @cached_property
    def _rules(self) -> list[tuple[bool, re.Pattern[str]]]:
        ignore = self.root / ".dockerignore"
        if not ignore.is_file():
            return []
        rules = []
        for line in ignore.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            keep = text.startswith("!")
            pattern = _clean(text[1:] if keep else text)
            if pattern:
                rules.append((keep, _regex(pattern)))
        return rules

    def excluded(self, relative: str) -> bool:
        """True when `.dockerignore` keeps the path (relative to the root) out of the context."""
        parts = _clean(relative).split("/")
        prefixes = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        result = False
        for keep, regex in self._rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                result = not keep
        return result

    def missing(self, source: str) -> str | None:
        """Why a COPY/ADD source is not in the context (absent, or excluded), or None when it
        is there. Wildcard sources count as present when one sent file matches them."""
        relative = _clean(source)
        if not relative:
            return None
        if any(char in relative for char in "*?["):
            sent = [
                p
                for p in self.root.glob(relative)
                if not self.excluded(str(p.relative_to(self.root)))
            ]
            return None if sent else "matches no file sent to the build"
        if not (self.root / relative).exists():
            return "does not exist"
        if self.excluded(relative):
            return "is excluded by .dockerignore"
        return None
