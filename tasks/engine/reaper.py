"""Finds and removes stdio MCP server containers that outlived their client."""

from __future__ import annotations

from dataclasses import dataclass

from python_on_whales import DockerClient

from tasks.engine.client import engine_errors
from tasks.servers.generate import ROLE_LABEL


@dataclass(frozen=True)
class Reaped:
    """A removed container."""

    id: str
    name: str
    server: str
    image: str
    status: str


def stdio_containers(client: DockerClient) -> list[Reaped]:
    """Every container labelled as a stdio MCP server, running or not."""
    with engine_errors("listing MCP server containers"):
        found = client.container.list(all=True, filters=[("label", ROLE_LABEL)])
    return [
        Reaped(
            c.id[:12],
            c.name,
            (c.config.labels or {}).get("dev.mcp-cluster.server", "?"),
            str(c.config.image),
            str(c.state.status),
        )
        for c in found
    ]


def reap(client: DockerClient) -> list[Reaped]:
    """Remove every labelled stdio server container; returns what was removed."""
    victims = stdio_containers(client)
    if victims:
        with engine_errors("removing MCP server containers"):
            client.container.remove([v.id for v in victims], force=True)
    return victims
