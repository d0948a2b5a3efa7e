"""Probing the stack's MCP servers the way their clients reach them: stdio servers by the
command devcontainer.json runs, URL servers from inside the dev container (they are on the
cluster network, as VS Code in the dev container sees them), every probe container stopped by
name when its session ends."""

from __future__ import annotations

from tasks.engine.client import docker_client
from tasks.engine.reaper import stop_named
from tasks.engine.stack import compose_client, statuses
from tasks.model.stack import Stack
from tasks.profiles import network_name
from tasks.servers.inside import remote_settings
from tasks.servers.probe import Reach
from tasks.servers.remote import tunnel
from tasks.servers.specs import ProbeSpec, Skipped

TUNNEL = "socat"


def dev_container(stack: Stack) -> str:
    """The running dev container's id ('' when it is not running)."""
    status = statuses(compose_client(stack, None), network_name(stack)).get(stack.dev_service)
    return status.container if status is not None and status.state == "running" else ""


def reach_for(container: str, user: str) -> Reach:
    """URL servers reached from inside `container` as `user` (a `socat` relay started with
    `docker exec`), containers stopped through the engine."""
    client = docker_client()
    return Reach(
        opener=tunnel(["docker", "exec", "-i", "-u", user, container, TUNNEL, "-"]),
        stop=lambda name: stop_named(client, name),
    )


def reachable(stack: Stack, specs: list[ProbeSpec]) -> tuple[list[ProbeSpec], list[Skipped], Reach]:
    """The specs this machine can probe now, those it cannot (URL servers while the dev
    container is down) and how to reach the rest."""
    container = dev_container(stack) if any(spec.url for spec in specs) else ""
    remote = remote_settings(stack)
    if container or not any(spec.url for spec in specs):
        return specs, [], reach_for(container, remote.user)
    reason = f"served on the cluster network: start the dev container ({stack.dev_service})"
    kept = [spec for spec in specs if not spec.url]
    skipped = [Skipped(spec.name, reason) for spec in specs if spec.url]
    return kept, skipped, reach_for("", remote.user)
