"""The stdio MCP server containers: find them, remove those whose client is gone, stop one by
name.

Every server image runs behind the relay, which ends the server when the client's stdin
closes; a running server container with its stdin open therefore still has its client. What is
left behind is a container that is not running (created but never started, exited without
`--rm`, dead) or that runs without stdin (started detached: no client can speak to it): those
are removed by default, live ones only when asked (`mcp.clean --all`)."""

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
    stdin: bool = True

    @property
    def live(self) -> bool:
        """Running with stdin open: its client still holds it."""
        return self.stdin and self.status in ("running", "restarting")


def stdio_containers(client: DockerClient, server: str = "") -> list[Reaped]:
    """Every container labelled as a stdio MCP server (of `server` only, when given), running
    or not."""
    labels = [ROLE_LABEL] + ([f"{SERVER_LABEL}={server}"] if server else [])
    with engine_errors("listing MCP server containers"):
        found = client.container.list(all=True, filters=[("label", label) for label in labels])
    return [
        Reaped(
            c.id[:12],
            c.name,
            (c.config.labels or {}).get(SERVER_LABEL, "?"),
            str(c.config.image),
            str(c.state.status),
            (c.config.labels or {}).get(SESSION_LABEL, ""),
            bool(c.config.open_stdin),
        )
        for c in found
    ]


def reap(
    client: DockerClient, everything: bool = False, server: str = ""
) -> tuple[list[Reaped], list[Reaped]]:
    """Remove the server containers whose client is gone (`everything`: live ones too; of
    `server` only, when given); returns (removed, kept)."""
    found = stdio_containers(client, server)
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
