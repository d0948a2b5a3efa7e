"""What a build context sends to BuildKit: its files minus those `.dockerignore` excludes.

The patterns follow the engine's rules: paths relative to the context root, `*` and `?` within
one path segment, `[...]` classes and `\\` escapes, `**` across segments (`**/` also matches
no folder at all), `!` re-including, the last matching line deciding, and a pattern that
matches a folder excluding everything under it. `<Dockerfile>.dockerignore` beside the
Dockerfile takes the place of the context's `.dockerignore`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tasks.model.source import present, read_text

EXCLUDED = "is excluded by .dockerignore"
ABSENT = "does not exist"
NO_MATCH = "matches no file sent to the build"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path pattern (`*`, `?`, `[...]`, `\\` escapes, `**` across folders) as a regular
    expression over `/`-separated relative paths."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "\\" and index + 1 < len(pattern):
            out.append(re.escape(pattern[index + 1]))
            index += 2
        elif char == "[" and "]" in pattern[index + 2 :]:
            end = pattern.index("]", index + 2)
            body = pattern[index + 1 : end]
            negate = body[:1] in ("^", "!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return re.compile("".join(out))


def _clean(pattern: str) -> str:
    parts = [part for part in pattern.strip().split("/") if part not in ("", ".")]
    return "/".join(parts)


@dataclass(frozen=True)
class BuildContext:
    """A build context folder, its ignore file, and the Dockerfile it builds (whose own
    `<name>.dockerignore` wins when it exists)."""

    root: Path
    dockerfile: Path | None = field(default=None)

    @cached_property
    def _rules(self) -> list[tuple[bool, re.Pattern[str]]]:
        ignore = self.root / ".dockerignore"
        if self.dockerfile is not None:
            own = self.dockerfile.with_name(self.dockerfile.name + ".dockerignore")
            ignore = own if present(own) else ignore
        if not present(ignore):
            return []
        rules = []
        for line in read_text(ignore, "ignore file").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            keep = text.startswith("!")
            pattern = _clean(text[1:] if keep else text)
            if pattern:
                rules.append((keep, glob_regex(pattern)))
        return rules

    def excluded(self, relative: str) -> bool:
        """True when the ignore file keeps the path (relative to the root) out of the context."""
        parts = _clean(relative).split("/")
        prefixes = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
        result = False
        for keep, regex in self._rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                result = not keep
        return result

    def _sends_under(self, folder: Path) -> bool:
        return any(
            path.is_file() and not self.excluded(str(path.relative_to(self.root)))
            for path in folder.rglob("*")
        )

    def missing(self, source: str) -> str | None:
        """Why a COPY/ADD source is not in the context (ABSENT, EXCLUDED or NO_MATCH), or None
        when it is there. A folder or a wildcard counts as there when one file it covers is
        sent."""
        relative = _clean(source)
        if not relative:
            return None
        if any(char in relative for char in "*?["):
            for path in self.root.glob(relative):
                rel = str(path.relative_to(self.root))
                if (path.is_file() and not self.excluded(rel)) or (
                    path.is_dir() and self._sends_under(path)
                ):
                    return None
            return NO_MATCH
        path = self.root / relative
        if not path.exists():
            return ABSENT
        if path.is_dir():
            return None if self._sends_under(path) else EXCLUDED
        return EXCLUDED if self.excluded(relative) else None
