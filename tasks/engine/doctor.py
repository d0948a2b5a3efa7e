"""Prerequisite probes: what this host has (tasks/engine/prerequisites.py judges it)."""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.components.system.models import SystemInfo
from python_on_whales.exceptions import DockerException

from tasks.engine.prerequisites import Facts, Wanted
from tasks.model.compose import Network, overlaps


def _probe(call: Any) -> str | None:
    try:
        return str(call()).strip()
    except (DockerException, FileNotFoundError):
        return None


def runtimes(client: DockerClient) -> list[str]:
    """The container runtimes the engine offers (`runc`, `nvidia`, ...)."""
    return _runtime_names(client.system.info())


def _runtime_names(info: SystemInfo) -> list[str]:
    return sorted((info.runtimes or {}).keys())


def gather_facts(client: DockerClient, wanted: Wanted | None = None) -> Facts:
    """Ask the engine, the CLI plugins, the disk and PATH about what `wanted` needs."""
    wanted = wanted or Wanted()
    facts = Facts(
        mmdebstrap=shutil.which("mmdebstrap") is not None,
        stack_subnets=wanted.subnets,
        interpreters=list(wanted.interpreters),
    )
    try:
        info = client.system.info()
        facts.engine_version = str(info.server_version)
        facts.runtimes = _runtime_names(info)
        root = Path(str(info.docker_root_dir or "/"))
        server = client.version().server
        facts.api_version = str(server.api_version) if server else None
    except (DockerException, FileNotFoundError) as error:
        lines = str(getattr(error, "stderr", "") or error).strip().splitlines()
        facts.engine_error = lines[-1] if lines else "docker does not answer"
        root = Path("/")
    facts.buildx_version = _probe(client.buildx.version)
    facts.compose_version = _probe(client.compose.version)
    facts.free_bytes = shutil.disk_usage(root if root.exists() else Path("/")).free
    if facts.engine_version:
        facts.overlapping_networks = _overlaps(client, wanted.networks)
    for name in wanted.interpreters:
        path = shutil.which(name)
        if path:
            facts.free_threaded[path] = _gil_disabled(path)
    return facts


def _overlaps(client: DockerClient, networks: Sequence[Network]) -> list[str]:
    ours = {network.name for network in networks}
    pools = [subnet for network in networks for subnet in network.subnets]
    found = []
    for network in client.network.list():
        if network.name in ours:
            continue
        for config in (network.ipam.config or []) if network.ipam else []:
            subnet = config.get("Subnet") if isinstance(config, dict) else None
            if subnet and overlaps(ipaddress.ip_network(subnet, strict=False), pools):
                found.append(f"{network.name} ({subnet})")
    return found


def _gil_disabled(python: str) -> bool:
    from tasks.pybuild.probe import inspect

    facts = inspect(python, {"PYTHON_GIL": "0"})
    return facts is not None and facts.free_threaded_build
