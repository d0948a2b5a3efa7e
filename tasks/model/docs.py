"""Markdown files of the stack: their length and relative links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.model.source import read_text

_LINK = re.compile(r"!?\[[^\]]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
MAX_LINES = 100


@dataclass(frozen=True)
class Link:
    """A relative link and the line it is on."""

    target: str
    line: int

    def resolved(self, doc: Path) -> Path:
        """The file the link points at."""
        return (doc.parent / self.target.split("#", 1)[0]).resolve(strict=False)


@dataclass(frozen=True)
class DocFile:
    """A Markdown file."""

    path: Path
    line_count: int
    links: tuple[Link, ...]
    text: str


def load_doc(path: Path) -> DocFile:
    """Read a Markdown file; keep only relative links (no URLs, no pure anchors)."""
    text = read_text(path, "Markdown file")
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _LINK.finditer(line):
            target = match.group("target")
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            links.append(Link(target, number))
    return DocFile(path, len(text.splitlines()), tuple(links), text)
