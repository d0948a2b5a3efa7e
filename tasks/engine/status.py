"""What a service's container is doing, read from `docker inspect` documents (pure:
tasks/engine/stack.py asks the engine)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class ServiceStatus:
    """What one service's container is doing."""

    service: str
    state: str = "missing"
    health: str = ""
    ip: str = ""
    ports: str = ""
    seconds_to_healthy: float | None = None
    container: str = ""
    passed_check_at: float | None = None
    """When the engine's latest healthcheck run ended (Unix time), if that run passed."""

    @property
    def ready(self) -> bool:
        """Healthy, or running without a healthcheck."""
        return self.health == "healthy" or (self.state == "running" and self.health == "none")

    @property
    def failed(self) -> bool:
        """Exited, dead or unhealthy."""
        return self.state in ("exited", "dead") or self.health == "unhealthy"


def status_of(inspected: dict[str, Any], network: str) -> ServiceStatus:
    """A service's status from its container's `docker inspect` document."""
    state = inspected["State"]
    settings = inspected.get("NetworkSettings") or {}
    ip = ((settings.get("Networks") or {}).get(network) or {}).get("IPAddress", "")
    ports = ", ".join(
        f"{b['HostIp']}:{b['HostPort']}->{port}"
        for port, bindings in (settings.get("Ports") or {}).items()
        for b in (bindings or [])
    )
    labels = (inspected.get("Config") or {}).get("Labels") or {}
    name = labels.get("com.docker.compose.service", str(inspected["Name"]).lstrip("/"))
    health = (state.get("Health") or {}).get("Status", "none")
    return ServiceStatus(
        name,
        str(state["Status"]),
        str(health),
        ip,
        ports,
        container=inspected["Id"],
        passed_check_at=passed_at((state.get("Health") or {}).get("Log") or []),
    )


def passed_at(log: list[dict[str, Any]]) -> float | None:
    """When the latest run of a health log (oldest first, as `docker inspect` lists it) ended,
    as Unix time, if it passed (exit 0); None otherwise or when the engine's time is unreadable."""
    if not log or log[-1].get("ExitCode") != 0:
        return None
    try:
        return datetime.fromisoformat(str(log[-1].get("End"))).timestamp()
    except ValueError:
        return None


def env_value(env: list[str], name: str) -> str | None:
    """The value of `name` in a container's environment (`NAME=value` lines, as `docker
    inspect` lists them; the last wins), None when it is not set."""
    values = [line.partition("=")[2] for line in env if line.partition("=")[0] == name]
    return values[-1] if values else None


def per_service(newest_first: list[ServiceStatus]) -> dict[str, ServiceStatus]:
    """One status per service from `docker ps` order (newest container first): the newest
    container stands for its service while compose recreates it (the old one renamed) or when
    the service is scaled."""
    return {status.service: status for status in reversed(newest_first)}
