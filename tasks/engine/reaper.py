"""The stdio MCP server containers: find them, remove those whose client is gone, stop one by
name.

Every server image runs behind the relay, which ends the server when the client's stdin
closes; a running server container therefore still has its client. What is left behind is a
container that is not running (created but never started, exited without `--rm`, dead): those
are removed by default, running ones only when asked (`mcp.clean --all`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from tasks.engine.client import engine_errors
from tasks.servers.generate import ROLE_LABEL, SERVER_LABEL

SESSION_LABEL = "dev.mcp-cluster.session"
STOP_SECONDS = 2


@dataclass(frozen=True)
class Reaped:
    """A server container."""

    id: str
    name: str
    server: str
    image: str
    status: str
    session: str = ""

    @property
    def live(self) -> bool:
        """Running: its client still holds its stdin."""
        return self.status in ("running", "restarting")


def stdio_containers(client: DockerClient) -> list[Reaped]:
    """Every container labelled as a stdio MCP server, running or not."""
    with engine_errors("listing MCP server containers"):
        found = client.container.list(all=True, filters=[("label", ROLE_LABEL)])
    return [
        Reaped(
            c.id[:12],
            c.name,
            (c.config.labels or {}).get(SERVER_LABEL, "?"),
            str(c.config.image),
            str(c.state.status),
            (c.config.labels or {}).get(SESSION_LABEL, ""),
        )
        for c in found
    ]


def reap(client: DockerClient, everything: bool = False) -> tuple[list[Reaped], list[Reaped]]:
    """Remove the server containers whose client is gone (`everything`: live ones too);
    returns (removed, kept)."""
    found = stdio_containers(client)
    victims = [c for c in found if everything or not c.live]
    if victims:
        with engine_errors("removing MCP server containers"):
            client.container.remove([v.id for v in victims], force=True)
    return victims, [c for c in found if c not in victims]


def stop_named(client: DockerClient, name: str) -> None:
    """Stop a container by name (SIGTERM, then SIGKILL after STOP_SECONDS) and remove it; one
    that is already gone is fine."""
    with contextlib.suppress(DockerException):
        client.container.stop(name, time=STOP_SECONDS)
    with contextlib.suppress(DockerException):
        client.container.remove(name, force=True)
