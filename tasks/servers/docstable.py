"""The docs' table of MCP servers, generated from the manifests: every doc under `docs/` that
holds the two markers gets the table between them (`invoke mcp.config` writes it; rule DOC004
fails when it differs)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.model.docs import DocFile
from tasks.model.manifest import ManifestMount, McpManifest
from tasks.model.stack import Stack
from tasks.servers.generate import client_manifests

BEGIN = "<!-- mcp-servers:begin"
END = "<!-- mcp-servers:end -->"
UNTERMINATED = "the MCP servers table has a begin marker but no end marker"
HEADER = (
    "| server | what it does | image or URL | network | mounts | secrets |",
    "|---|---|---|---|---|---|",
)


@dataclass(frozen=True)
class Block:
    """A doc's generated table: the marker's line, the text it holds and the text it should."""

    doc: DocFile
    line: int
    current: tuple[str, ...]
    wanted: tuple[str, ...]
    terminated: bool = True

    def text(self) -> str:
        """The doc's text with the wanted table between the markers."""
        if not self.terminated:
            raise StackError(
                self.doc.path,
                UNTERMINATED,
                f"put {END} on its own line after the table",
                line=self.line,
            )
        lines = self.doc.text.splitlines()
        end = self.line + len(self.current)
        tail = "\n" if self.doc.text.endswith("\n") else ""
        return "\n".join([*lines[: self.line], *self.wanted, *lines[end:]]) + tail


def in_docs(stack: Stack, doc: DocFile) -> bool:
    """True for Markdown under the stack's `docs/` folder."""
    return "docs" in doc.path.relative_to(stack.folder).parts[:1]


def _mount(mount: ManifestMount) -> str:
    source = "workspace" if mount.type == "workspace" else mount.source
    guarded = f" ({', '.join(mount.guard)} read-only)" if mount.guard else ""
    return f"{source} at {mount.target}{', read-only' if mount.read_only else guarded}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def table(manifests: Iterable[McpManifest], doc: Path) -> tuple[str, ...]:
    """The table rows for a doc at `doc` (links to each server's README relative to it)."""
    rows = list(HEADER)
    for manifest in client_manifests(manifests):
        readme = manifest.path.parent.parent / "README.md"
        name = manifest.name
        if readme.is_file():
            name = f"[{name}]({Path(os.path.relpath(readme, doc.parent)).as_posix()})"
        cells = (
            name,
            _cell(manifest.description),
            f"`{manifest.url or manifest.image}`",
            "mcp-cluster" if manifest.remote else manifest.network,
            "; ".join(_mount(m) for m in manifest.mounts),
            ", ".join(f"`{s.name}`" for s in manifest.secrets),
        )
        rows.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return tuple(rows)


def rendered_docs(stack: Stack) -> dict[Path, str]:
    """Path -> the text of each doc whose table is generated; a begin marker without an end
    raises `StackError`."""
    return {block.doc.path: block.text() for block in blocks(stack)}


def blocks(stack: Stack) -> list[Block]:
    """Each generated table in `docs/`, with what the manifests say it should hold."""
    found = []
    manifests = list(stack.manifests.values())
    for doc in stack.docs:
        if not in_docs(stack, doc):
            continue
        lines = doc.text.splitlines()
        begin = next((i for i, line in enumerate(lines) if line.startswith(BEGIN)), None)
        if begin is None:
            continue
        end = next((i for i in range(begin + 1, len(lines)) if lines[i].strip() == END), None)
        wanted = table(manifests, doc.path)
        if end is None:
            found.append(Block(doc, begin + 1, tuple(lines[begin + 1 :]), wanted, False))
        else:
            found.append(Block(doc, begin + 1, tuple(lines[begin + 1 : end]), wanted))
    return found
