"""Documentation: short files, working links, every service and server documented, and the
MCP servers table generated from the manifests."""

from __future__ import annotations

from collections.abc import Iterator

from tasks.model.docs import MAX_LINES
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.servers.docstable import BEGIN, END, UNTERMINATED, Block, blocks
from tasks.servers.generate import client_manifests


@rule("DOC001", f"Markdown file longer than {MAX_LINES} lines", Severity.ERROR)
def line_limit(stack: Stack) -> Iterator[Hit]:
    """Every README and doc stays a summary."""
    for doc in stack.docs:
        if doc.line_count > MAX_LINES:
            yield Hit(
                doc.path,
                MAX_LINES + 1,
                f"{doc.line_count} lines (limit {MAX_LINES})",
                "split it and link the parts",
            )


@rule("DOC002", "relative link to a missing file", Severity.ERROR)
def links(stack: Stack) -> Iterator[Hit]:
    """Relative links resolve from the file that holds them."""
    for doc in stack.docs:
        for link in doc.links:
            if not link.resolved(doc.path).exists():
                yield Hit(
                    doc.path,
                    link.line,
                    f"link {link.target} leads nowhere",
                    "fix the path (relative to this file) or remove the link",
                )


@rule("DOC003", "service or MCP server not documented", Severity.WARNING)
def coverage(stack: Stack) -> Iterator[Hit]:
    """Each compose service and MCP server is named in the docs, and each server has a README."""
    text = "\n".join(doc.text for doc in stack.docs if "docs" in doc.path.parts)
    for name in stack.compose.services:
        if f"{name}" not in text:
            yield Hit(
                stack.compose.path,
                stack.compose.line("services", name),
                f"service {name} is not mentioned in docs/",
                "describe it in docs/services/services-reference.md",
            )
    for manifest in stack.manifests.values():
        readme = manifest.path.parent.parent / "README.md"
        if not readme.is_file():
            yield Hit(
                manifest.path,
                1,
                f"server {manifest.name} has no README.md",
                f"write mcp/{manifest.folder_name}/README.md",
            )
        if manifest.name not in text:
            yield Hit(
                manifest.path,
                1,
                f"server {manifest.name} is not mentioned in docs/",
                "describe it in docs/services/mcp-servers-reference.md",
            )


@rule("DOC004", "MCP servers table differs from the manifests", Severity.ERROR)
def server_table(stack: Stack) -> Iterator[Hit]:
    """The docs' table of MCP servers is generated from the manifests: a missing, extra or
    stale row fails, and so does a docs folder without the table."""
    found = blocks(stack)
    for block in found:
        if not block.terminated:
            yield Hit(
                block.doc.path,
                block.line,
                UNTERMINATED,
                f"put {END} on its own line after the table",
            )
        elif block.current != block.wanted:
            yield Hit(
                block.doc.path,
                block.line,
                f"the MCP servers table differs from the manifests ({_difference(block)})",
                "run `invoke mcp.config` (edit the manifest, not the table)",
            )
    if not found and client_manifests(stack.manifests.values()):
        yield Hit(
            stack.folder / "docs",
            None,
            "no doc in docs/ holds the generated MCP servers table",
            f"put the lines `{BEGIN} -->` and `{END}` in docs/services/mcp-servers-reference.md "
            "and run `invoke mcp.config`",
        )


def _difference(block: Block) -> str:
    """Which servers' rows are missing or stale, and which are extra."""

    def server(row: str) -> str:
        return row.strip("| ").split(" |", 1)[0].split("](", 1)[0].lstrip("[")

    missing = [server(r) for r in block.wanted if r not in block.current]
    extra = [server(r) for r in block.current if r not in block.wanted]
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing or stale", missing), ("not generated", extra))
        if names
    ]
    return "; ".join(parts) or "rows out of order"
