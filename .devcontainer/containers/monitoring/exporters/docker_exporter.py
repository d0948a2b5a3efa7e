#!/usr/bin/env python3
"""Per-container metrics of the compose project this exporter runs in, for Prometheus: CPU,
memory, network, restarts, state and health of every container of the project, read from the
Docker engine API (what `docker stats` and `docker inspect` show), under cAdvisor's metric names
so that Docker dashboards read them unchanged:

container_cpu_usage_seconds_total, container_memory_usage_bytes,
container_memory_working_set_bytes, container_spec_memory_limit_bytes,
container_network_receive_bytes_total, container_network_transmit_bytes_total,
container_start_time_seconds, container_restarts_total (restarts by the restart policy),
container_running and container_healthy; each labelled with `name` and compose `service`.

Why the engine API: cAdvisor is not in Debian's archive, and the engine's own metrics endpoint
(daemon.json `metrics-addr`) describes the daemon, not its containers. A refresh costs two API
requests per container, all at once (the engine answers stats at its next collection, about a
second); it runs at a scrape once the last one is REFRESH_SECONDS old (the healthcheck asks
/healthy, which collects nothing). Settings: DOCKER_EXPORTER_PORT (9417), DOCKER_SOCKET.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import engine_api
import serving
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REFRESH_SECONDS = 5.0
WORKERS = 32
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
LABELS = ("name", "service")


@dataclass(frozen=True)
class Sample:
    """One container's figures."""

    name: str
    service: str
    running: bool
    healthy: bool | None
    restarts: int
    started: float
    cpu_seconds: float = 0.0
    memory: float = 0.0
    working_set: float = 0.0
    limit: float = 0.0
    received: float = 0.0
    sent: float = 0.0


def timestamp(text: str) -> float:
    """Seconds since the epoch of the engine's RFC 3339 time (nanoseconds cut to micro); 0 for
    the zero time of a container that never started."""
    if not text or text.startswith("0001-"):
        return 0.0
    head, _, fraction = text.rstrip("Z").partition(".")
    micro = (fraction + "000000")[:6]
    moment = datetime.datetime.fromisoformat(f"{head}.{micro}+00:00")
    return moment.timestamp()


def sample(inspected: dict[str, Any], stats: dict[str, Any] | None) -> Sample:
    """A container's figures from its `inspect` document and (when running) its one-shot stats."""
    state = inspected.get("State") or {}
    labels = (inspected.get("Config") or {}).get("Labels") or {}
    health = (state.get("Health") or {}).get("Status")
    base = Sample(
        str(inspected.get("Name", "")).lstrip("/"),
        str(labels.get(SERVICE_LABEL, "")),
        state.get("Status") == "running",
        None if health is None else health == "healthy",
        int(inspected.get("RestartCount") or 0),
        timestamp(str(state.get("StartedAt") or "")),
    )
    if not stats or not base.running:
        return base
    memory = stats.get("memory_stats") or {}
    usage = float(memory.get("usage") or 0)
    details = memory.get("stats") or {}
    # cgroup v2 names it inactive_file, cgroup v1 total_inactive_file.
    inactive = float(details.get("inactive_file", details.get("total_inactive_file", 0)) or 0)
    networks = (stats.get("networks") or {}).values()
    return Sample(
        base.name,
        base.service,
        base.running,
        base.healthy,
        base.restarts,
        base.started,
        float(((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage") or 0)
        / 1e9,
        usage,
        max(0.0, usage - inactive),
        float(memory.get("limit") or 0),
        float(sum(n.get("rx_bytes", 0) for n in networks)),
        float(sum(n.get("tx_bytes", 0) for n in networks)),
    )


def families(samples: list[Sample]) -> list[Metric]:
    """The metric families of these samples."""

    def gauge(name: str, text: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, text, labels=LABELS)

    def counter(name: str, text: str) -> CounterMetricFamily:
        return CounterMetricFamily(name, text, labels=LABELS)

    cpu = counter("container_cpu_usage_seconds", "CPU time the container used")
    memory = gauge("container_memory_usage_bytes", "memory the container uses, page cache included")
    working = gauge("container_memory_working_set_bytes", "memory usage less inactive page cache")
    limit = gauge("container_spec_memory_limit_bytes", "the container's memory limit")
    received = counter("container_network_receive_bytes", "bytes received on every interface")
    sent = counter("container_network_transmit_bytes", "bytes sent on every interface")
    started = gauge("container_start_time_seconds", "when the container last started")
    restarts = counter("container_restarts", "restarts by the container's restart policy")
    running = gauge("container_running", "1 while the container runs")
    healthy = gauge("container_healthy", "1 while the container's healthcheck passes")
    for item in samples:
        key = [item.name, item.service]
        running.add_metric(key, 1.0 if item.running else 0.0)
        restarts.add_metric(key, float(item.restarts))
        if item.healthy is not None:
            healthy.add_metric(key, 1.0 if item.healthy else 0.0)
        if not item.running:
            continue
        started.add_metric(key, item.started)
        cpu.add_metric(key, item.cpu_seconds)
        memory.add_metric(key, item.memory)
        working.add_metric(key, item.working_set)
        limit.add_metric(key, item.limit)
        received.add_metric(key, item.received)
        sent.add_metric(key, item.sent)
    return [cpu, memory, working, limit, received, sent, started, restarts, running, healthy]


def project_filter(project: str) -> str:
    """The engine API query that lists every container of a compose project (one-offs left
    out)."""
    filters = {"label": [f"{PROJECT_LABEL}={project}", "com.docker.compose.oneoff=False"]}
    return "/containers/json?all=1&filters=" + urllib.parse.quote(json.dumps(filters))


class ContainerCollector(Collector):
    """Samples the project's containers through `get` (the engine API) at most every
    REFRESH_SECONDS; serves the last samples."""

    def __init__(self, project: str, get: Callable[[str], Any] = engine_api.get) -> None:
        self.project = project
        self.get = get
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.taken = -REFRESH_SECONDS
        self.scrape_errors = 0

    def refresh(self) -> list[Sample]:
        """One sample of every container of the project; the engine answers a stats request at
        its next collection (about a second), so the containers are asked all at once."""
        listed = [item["Id"] for item in self.get(project_filter(self.project))]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            found = list(pool.map(self.one, listed))
        return [item for item in found if item is not None]

    def one(self, ident: str) -> Sample | None:
        """A container's sample; None when it was removed since it was listed."""
        try:
            inspected = self.get(f"/containers/{ident}/json")
            running = (inspected.get("State") or {}).get("Status") == "running"
            stats = (
                self.get(f"/containers/{ident}/stats?stream=false&one-shot=true")
                if running
                else None
            )
        except engine_api.EngineError:
            return None
        return sample(inspected, stats)

    def collect(self) -> Iterator[Metric]:
        """The samples (refreshed when old) and whether the last refresh failed."""
        with self.lock:
            if time.monotonic() - self.taken >= REFRESH_SECONDS:
                self.taken = time.monotonic()  # an engine that fails is asked again later too
                try:
                    self.samples = self.refresh()
                except (engine_api.EngineError, KeyError, ValueError) as error:
                    self.scrape_errors += 1
                    print(f"docker-exporter: {error}", file=sys.stderr)
            samples = list(self.samples)
            errors = self.scrape_errors
        yield from families(samples)
        failed = CounterMetricFamily(
            "docker_exporter_refresh_errors", "refreshes the engine did not answer"
        )
        failed.add_metric([], float(errors))
        yield failed


def main() -> None:
    """Serve the metrics of the project this container belongs to."""
    port = int(os.environ.get("DOCKER_EXPORTER_PORT", "9417"))
    try:
        labels = (engine_api.own_container().get("Config") or {}).get("Labels") or {}
    except (engine_api.EngineError, OSError) as error:
        raise SystemExit(f"docker-exporter: {error}") from None
    project = labels.get(PROJECT_LABEL)
    if not project:
        raise SystemExit("docker-exporter: this container belongs to no compose project")
    registry = CollectorRegistry()
    registry.register(ContainerCollector(project))
    serving.serve(port, registry)
    print(f"docker-exporter: serving project {project} on :{port}", file=sys.stderr)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
