"""Compose lifecycle of the stack: up, wait for health, status, logs, down."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import stream_stdout_and_stderr

from tasks.engine.client import engine_errors, inspect_all
from tasks.engine.status import ServiceStatus, per_service, status_of
from tasks.errors import EngineError
from tasks.model.stack import ENV_FILE, PROFILES_DIR, Stack

POLL_SECONDS = 0.5
GRACE_SECONDS = 15.0


def env_files(stack: Stack, image_profile: str | None) -> list[Path]:
    """Interpolation files in order: devcontainer.env, the profile's, then the local .env."""
    files = [stack.folder / ENV_FILE]
    if image_profile:
        files.append(stack.folder / PROFILES_DIR / f"{image_profile}.env")
    local = stack.folder / ".env"
    return files + ([local] if local.is_file() else [])


def compose_client(
    stack: Stack, image_profile: str | None, compose_profiles: tuple[str, ...] = ()
) -> DockerClient:
    """A client for this stack's compose project with the profile's env files."""
    return DockerClient(
        compose_files=[stack.compose.path],
        compose_env_files=list[str | Path](env_files(stack, image_profile)),
        compose_profiles=list(compose_profiles),
        compose_project_name=stack.compose.project,
        compose_project_directory=stack.compose.folder,
    )


def statuses(client: DockerClient, network: str) -> dict[str, ServiceStatus]:
    """Status of every container of the project (stopped ones included, `compose run`
    one-offs left out): one `docker ps` by compose's labels, which unlike `compose ps` does not
    load the project, and one `docker inspect` of all of them. A container removed in between
    (compose recreating it) is left out of this round."""
    project = f"com.docker.compose.project={client.client_config.compose_project_name}"
    with engine_errors("listing the project's containers"):
        containers = client.container.list(
            all=True, filters=[("label", project), ("label", "com.docker.compose.oneoff=False")]
        )
    inspected = inspect_all(client, "container", [container.id for container in containers])
    return per_service([status_of(d, network) for d in inspected])


def running_containers(client: DockerClient, project: str) -> list[Container]:
    """The running containers of compose project `project`."""
    with engine_errors(f"listing the containers of {project}"):
        return client.container.list(filters=[("label", f"com.docker.compose.project={project}")])


def up(client: DockerClient, services: list[str], timeout: float) -> None:
    """Create and start the services and return once every one is healthy (or running, when it
    has no healthcheck), as `docker compose up --wait` does; compose raises when one fails or
    `timeout` passes."""
    with engine_errors("docker compose up", "read the failing services' logs below"):
        client.compose.up(
            services, detach=True, quiet=True, wait=True, wait_timeout=max(1, math.ceil(timeout))
        )


def up_and_wait(
    client: DockerClient,
    services: list[str],
    network: str,
    timeout: float,
    on_tick: Callable[[dict[str, ServiceStatus]], None],
) -> tuple[dict[str, ServiceStatus], str]:
    """Start the services and poll while compose brings them up tier by tier.

    Returns each service's status with its seconds to healthy (from the start of `up`) and the
    error compose reported, if any. Compose decides when the stack is up (`--wait`); the polls
    only show progress, and the last one is taken as soon as compose returns.
    """
    failure: list[str] = []

    def start() -> None:
        try:
            up(client, services, timeout)
        except EngineError as error:
            failure.append(str(error))

    worker = threading.Thread(target=start, daemon=True)
    started = time.monotonic()
    worker.start()
    # Compose's own deadline starts once the containers exist: give it a grace period to
    # report before ours ends.
    deadline = timeout + GRACE_SECONDS
    result = wait_healthy(
        client,
        services,
        network,
        deadline,
        on_tick,
        started,
        until=lambda: not worker.is_alive() and bool(failure),
        starting=worker.is_alive,
        pause=lambda: worker.join(POLL_SECONDS),
    )
    worker.join(timeout=max(0.0, deadline - (time.monotonic() - started)))
    if worker.is_alive() and not failure:
        failure.append(f"docker compose up --wait had not returned after {deadline:.0f} s")
    return result, failure[0] if failure else ""


def wait_healthy(
    client: DockerClient,
    services: list[str],
    network: str,
    timeout: float,
    on_tick: Callable[[dict[str, ServiceStatus]], None] = lambda rows: None,
    started: float | None = None,
    until: Callable[[], bool] = lambda: False,
    starting: Callable[[], bool] = lambda: False,
    pause: Callable[[], object] = lambda: time.sleep(POLL_SECONDS),
) -> dict[str, ServiceStatus]:
    """Poll until every service is ready or has failed (unhealthy, exited), `until()` holds, or
    `timeout` passes, calling `pause()` between polls. While `starting()` holds nothing counts
    as settled: a container stopped before `up` still shows its old state until compose starts
    it again. `on_tick` sees each poll's statuses; seconds to healthy and the timeout count
    from `started` (a `time.monotonic()` reading; by default, the call)."""
    started = time.monotonic() if started is None else started
    ready_at: dict[str, float] = {}
    while True:
        now = time.monotonic()
        current = statuses(client, network)
        result = {name: current.get(name, ServiceStatus(name)) for name in services}
        for name, status in result.items():
            if status.ready:
                ready_at.setdefault(name, now - started)
            status.seconds_to_healthy = ready_at.get(name)
        on_tick(result)
        settled = not starting() and all(s.ready or s.failed for s in result.values())
        if settled or now - started > timeout or until():
            return result
        pause()


def restart(client: DockerClient, service: str) -> None:
    """Restart one service's container."""
    with engine_errors(f"docker compose restart {service}"):
        client.compose.restart([service])


def last_logs(client: DockerClient, service: str, lines: int = 20) -> list[str]:
    """The service's last log lines (empty when there are none)."""
    try:
        return str(client.compose.logs([service], tail=str(lines))).splitlines()[-lines:]
    except DockerException:
        return []


def container_logs(client: DockerClient, container: str, lines: int) -> str:
    """A container's last `lines` log lines, what it wrote to stdout and stderr as it came: one
    `docker logs` (python-on-whales' `logs` inspects the container first, a second process
    each time). Raises DockerException when the engine refuses."""
    command = [*client.client_config.docker_cmd, "container", "logs", "--tail", str(lines)]
    chunks = stream_stdout_and_stderr([*command, container])
    return "".join(chunk.decode(errors="replace") for _, chunk in chunks)


def health_output(client: DockerClient, container: str) -> str:
    """The last healthcheck's output of a container ('' when it has none)."""
    try:
        health = client.container.inspect(container).state.health
    except DockerException:
        return ""
    logs = (health.log or []) if health else []
    return str(logs[-1].output or "").strip() if logs else ""


def down(client: DockerClient, volumes: bool, networks: set[str], owned: list[str]) -> list[str]:
    """Stop and remove the project's containers and networks (and its `owned` volumes when
    asked). Containers started outside compose that still use one of `networks` (or, with
    `volumes`, one of `owned`) keep compose from removing it: MCP sessions into the stack, a
    client's or the prober's, which cannot reach it any more. They are removed, then compose
    removes what it left. Returns their names."""

    def compose_down() -> None:
        with engine_errors("docker compose down"):
            client.compose.down(volumes=volumes, remove_orphans=True, timeout=20, quiet=True)

    compose_down()
    filters = [{"network": name} for name in sorted(networks)]
    filters += [{"volume": name} for name in owned] if volumes else []
    with engine_errors("listing the containers that still use the stack"):
        found = {c.id: c.name for f in filters for c in client.container.list(all=True, filters=f)}
    if found:
        with engine_errors("removing the sessions that still use the stack"):
            client.container.remove(list(found), force=True)
        compose_down()
    return sorted(found.values())
