"""Compose services: health, restart, paths, addresses, GPU, privileges, ports and tiers."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator

from tasks.model.compose import Service, overlaps
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import (
    effective_env,
    image_family,
    image_tag,
    server_runs,
    service_dockerfile,
    service_images,
)


def _where(stack: Stack, service: Service, *keys: str | int) -> int | None:
    return stack.compose.line("services", service.name, *keys) or stack.compose.line(
        "services", service.name
    )


@rule("CMP001", "service without a working healthcheck", Severity.ERROR)
def healthchecks(stack: Stack) -> Iterator[Hit]:
    """Every service needs a healthcheck so tiers can wait on `service_healthy`."""
    for service in stack.compose.services.values():
        dockerfile = service_dockerfile(stack, service)
        image_check = [
            ins
            for ins in (dockerfile.final.of("HEALTHCHECK") if dockerfile else [])
            if not ins.value.strip().upper().startswith("NONE")
        ]
        if service.healthcheck is not None and service.healthcheck.disabled:
            yield Hit(
                stack.compose.path,
                _where(stack, service, "healthcheck"),
                f"service {service.name} disables its healthcheck",
                "give it a healthcheck test that proves the service answers",
            )
        elif service.healthcheck is None and not image_check:
            yield Hit(
                stack.compose.path,
                _where(stack, service),
                f"service {service.name} has no healthcheck",
                "add healthcheck: {test: [...], interval, timeout, retries, start_period}",
            )


@rule("CMP002", "restart policy is not unless-stopped", Severity.ERROR)
def restart_policy(stack: Stack) -> Iterator[Hit]:
    """Every service restarts unless stopped by hand."""
    for service in stack.compose.services.values():
        if service.restart is None:
            yield Hit(
                stack.compose.path,
                _where(stack, service),
                f"service {service.name} has no restart policy",
                "add restart: unless-stopped",
            )
        elif service.restart != "unless-stopped":
            yield Hit(
                stack.compose.path,
                _where(stack, service, "restart"),
                f"service {service.name} uses restart: {service.restart}",
                "use restart: unless-stopped",
                Severity.WARNING,
            )


@rule("CMP003", "path relative to the wrong folder, or missing", Severity.ERROR)
def references(stack: Stack) -> Iterator[Hit]:
    """Paths resolve from the folder of the file that holds them."""
    for ref in stack.references:
        if ref.exists:
            continue
        base = ref.source.parent
        candidates = [stack.root / ref.declared, base.parent / ref.declared]
        found = next((c for c in candidates if c.exists()), None)
        fix = (
            f"paths in {ref.source.name} are relative to {stack.rel(base) or '.'}/: write "
            f"{os.path.relpath(found, base)}"
            if found
            else f"create {stack.rel(ref.resolved)} or fix the path"
        )
        yield Hit(
            ref.source,
            ref.line,
            f"{ref.key}: {ref.kind} {ref.declared!r} resolves to "
            f"{stack.rel(ref.resolved)}, which {ref.state}",
            fix,
        )


def _static_addresses(stack: Stack) -> Iterator[tuple[Service, str, str]]:
    for service in stack.compose.services.values():
        for network, address in service.networks.items():
            if address:
                yield service, network, address


@rule("CMP004", "static address outside its subnet, clashing or reserved", Severity.ERROR)
def addresses(stack: Stack) -> Iterator[Hit]:
    """Every ipv4_address lies in the network's subnet, is unique, and is not the gateway."""
    seen: dict[tuple[str, str], str] = {}
    for service, network_key, address in _static_addresses(stack):
        line = _where(stack, service, "networks", network_key)
        network = stack.compose.networks.get(network_key)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: {address!r} is not an address",
                "write an IPv4 address such as 172.20.0.20",
            )
            continue
        if network is None:
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name} joins undeclared network {network_key}",
                f"declare networks.{network_key}",
            )
            continue
        if not network.subnets:
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name} sets ipv4_address on {network_key}, which has no subnet",
                f"add ipam.config[].subnet to networks.{network_key}",
            )
        elif not any(ip in subnet for subnet in network.subnets):
            subnets = ", ".join(map(str, network.subnets))
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: {address} is outside {network_key}'s subnet {subnets}",
                f"pick an address inside {subnets}",
            )
        if address in network.gateways or any(
            ip in (s.network_address, s.broadcast_address) for s in network.subnets
        ):
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: {address} is the gateway, network or broadcast address",
                "pick a host address",
            )
        other = seen.setdefault((network_key, address), service.name)
        if other != service.name:
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name} and {other} both claim {address}",
                "give every service its own address",
            )


@rule("CMP005", "static addresses can be taken by dynamic ones", Severity.WARNING)
def dynamic_range(stack: Stack) -> Iterator[Hit]:
    """Without an ip_range that excludes them, Docker may hand a static address to another
    container first.
    """
    for service, network_key, address in _static_addresses(stack):
        network = stack.compose.networks.get(network_key)
        if network is None or not network.subnets:
            continue
        line = _where(stack, service, "networks", network_key)
        ip = ipaddress.ip_address(address)
        if not network.ip_ranges:
            yield Hit(
                stack.compose.path,
                line,
                f"{network_key} has static addresses but no ip_range",
                "add ipam.config[].ip_range (e.g. 172.20.128.0/17) that excludes them",
            )
        elif any(ip in r for r in network.ip_ranges):
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: {address} lies inside the dynamic ip_range",
                "move the address out of ip_range",
            )


_DEFAULT_POOLS = (
    ipaddress.ip_network("172.17.0.0/16"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
)


@rule("CMP006", "subnet inside Docker's default address pools", Severity.INFO)
def default_pools(stack: Stack) -> Iterator[Hit]:
    """Such a subnet fails with "Pool overlaps" when another network already took it."""
    for network in stack.compose.networks.values():
        for subnet in network.subnets:
            if overlaps(subnet, _DEFAULT_POOLS):
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("networks", network.key, "ipam"),
                    f"{network.key}: {subnet} overlaps Docker's default address pools",
                    "if `Pool overlaps` appears, remove the stale network or pick another "
                    "subnet (`invoke doctor` reports clashes)",
                )


def _ip_variable(service_name: str) -> str:
    return service_name.upper().replace("-", "_") + "_IP"


@rule("CMP007", "address variable disagrees with the compose file", Severity.ERROR)
def address_variables(stack: Stack) -> Iterator[Hit]:
    """`<SERVICE>_IP` in devcontainer.env must match that service's ipv4_address."""
    addresses = {_ip_variable(s.name): (s, a) for s, _, a in _static_addresses(stack)}
    for entry in stack.env.entries:
        if not entry.key.endswith("_IP"):
            continue
        if entry.key not in addresses:
            yield Hit(
                stack.env.path,
                entry.line,
                f"{entry.key} names no service with a static address (stale?)",
                "remove it, or give the service that address",
                Severity.WARNING,
            )
        elif addresses[entry.key][1] != entry.value:
            service, address = addresses[entry.key]
            yield Hit(
                stack.env.path,
                entry.line,
                f"{entry.key}={entry.value} but {service.name} has {address}",
                "make the two agree",
            )


@rule("CMP008", "GPU reserved or exposed outside the GPU service", Severity.ERROR)
def gpu_isolation(stack: Stack) -> Iterator[Hit]:
    """One service holds the GPU, the first that reserves one (a `deploy` device reservation
    or `gpus:`); no other reserves one, uses the nvidia runtime or sees NVIDIA variables."""
    gpu = stack.compose.gpu_service
    for service in stack.compose.services.values():
        allowed = service.name == gpu
        fix = f"reserve GPUs only for {gpu}, the GPU service (the first that reserves one)"
        for device in service.devices:
            if not allowed and device in service.gpu_devices:
                yield Hit(
                    stack.compose.path,
                    _where(stack, service, "deploy"),
                    f"service {service.name} reserves a GPU",
                    fix,
                )
        if not allowed and service.raw.get("gpus"):
            yield Hit(
                stack.compose.path,
                _where(stack, service, "gpus"),
                f"service {service.name} reserves a GPU (gpus:)",
                fix,
            )
        for device in service.devices:
            if "capabilities" not in device:
                yield Hit(
                    stack.compose.path,
                    _where(stack, service, "deploy"),
                    f"service {service.name}: device reservation without capabilities",
                    "add capabilities: [gpu]",
                )
        if not allowed and service.raw.get("runtime") == "nvidia":
            yield Hit(
                stack.compose.path,
                _where(stack, service, "runtime"),
                f"service {service.name} uses the nvidia runtime",
                "remove runtime: nvidia",
            )
        setting = effective_env(stack, service).get("NVIDIA_VISIBLE_DEVICES")
        if not allowed and setting is not None and setting.value not in ("void", "none", ""):
            yield Hit(
                setting.path,
                setting.line,
                f"NVIDIA_VISIBLE_DEVICES reaches service {service.name}",
                "set NVIDIA_* only in the GPU service's own environment: "
                "(never in a shared env_file)",
            )
    for run in server_runs(stack):
        if run.run is not None and run.run.values("--gpus"):
            yield Hit(
                run.path,
                run.line,
                f"MCP server {run.name} asks for --gpus",
                "MCP stdio servers get no GPU",
            )


@rule("CMP009", "privileged or Docker socket without an approved reason", Severity.ERROR)
def privileges(stack: Stack) -> Iterator[Hit]:
    """privileged: true and /var/run/docker.sock mounts are root on the host: each needs a
    reason in the service's `x-security` field.
    """
    for service in stack.compose.services.values():
        if service.privileged and not service.security.get("privileged"):
            yield Hit(
                stack.compose.path,
                _where(stack, service, "privileged"),
                f"service {service.name} is privileged without a stated reason",
                "drop privileged, or add x-security: {privileged: <why it is needed>}",
            )
        if service.mounts_docker_socket() and not service.security.get("docker-socket"):
            yield Hit(
                stack.compose.path,
                _where(stack, service, "volumes"),
                f"service {service.name} mounts the Docker socket without a stated reason",
                "remove the mount, or add x-security: {docker-socket: <why>}",
            )
    for run in server_runs(stack):
        if run.run is None:
            continue
        if "--privileged" in run.run.flags or any("docker.sock" in s for s in run.mount_sources):
            yield Hit(
                run.path,
                run.line,
                f"MCP server {run.name} runs privileged or with the Docker socket",
                "stdio servers need neither; remove it",
            )


@rule("CMP010", "port published on all interfaces", Severity.ERROR)
def published_ports(stack: Stack) -> Iterator[Hit]:
    """Unauthenticated services (prometheus, nginx, buildkit, databases) must not reach the LAN."""
    for service in stack.compose.services.values():
        for index, port in enumerate(service.ports):
            if port.host_port == "" and port.host_ip == "":
                continue
            if not port.loopback_only:
                yield Hit(
                    stack.compose.path,
                    _where(stack, service, "ports", index),
                    f"service {service.name} publishes {port.container_port} on all interfaces",
                    f'bind to loopback: "127.0.0.1:{port.host_port or port.container_port}:'
                    f'{port.container_port}"',
                )


@rule("CMP011", "obsolete or deprecated setting", Severity.WARNING)
def deprecated(stack: Stack) -> Iterator[Hit]:
    """Settings the tools ignore or have removed."""
    data = stack.compose.doc.data
    if "version" in data:
        yield Hit(
            stack.compose.path,
            stack.compose.line("version"),
            "`version:` is obsolete in Compose v2",
            "delete the version key",
        )
    for service in stack.compose.services.values():
        env = effective_env(stack, service)
        if "GF_INSTALL_PLUGINS" in env:
            yield Hit(
                env["GF_INSTALL_PLUGINS"].path,
                env["GF_INSTALL_PLUGINS"].line,
                "GF_INSTALL_PLUGINS is deprecated since Grafana 12.1",
                "use GF_PLUGINS_PREINSTALL",
            )
        if "links" in service.raw:
            yield Hit(
                stack.compose.path,
                _where(stack, service, "links"),
                f"service {service.name} uses legacy links",
                "rely on the network's DNS",
            )


# (image family, tool in the healthcheck, why it fails, fix)
_MISSING_TOOLS = (
    (
        "mariadb",
        "mysqladmin",
        "MariaDB 11 images have no mysqladmin",
        "use healthcheck.sh --connect --innodb_initialized",
    ),
    (
        "github-runner",
        "pgrep",
        "the runner image may have no pgrep",
        "test the process another way, e.g. grep -qs Runner.Listener /proc/[0-9]*/cmdline",
    ),
    ("nginx", "curl", "nginx:alpine has no curl", "use wget -q --spider"),
    ("prometheus", "curl", "prom/prometheus has no curl", "use wget -q --spider"),
)


@rule("CMP012", "healthcheck uses a tool or address the image lacks", Severity.ERROR)
def healthcheck_tools(stack: Stack) -> Iterator[Hit]:
    """A healthcheck that cannot run keeps the service unhealthy forever."""
    for service in stack.compose.services.values():
        if service.healthcheck is None:
            continue
        command = service.healthcheck.command
        line = _where(stack, service, "healthcheck")
        families = {image_family(ref) for ref in service_images(stack, service)}
        for family, tool, why, fix in _MISSING_TOOLS:
            if family in families and tool in command.split():
                if family == "mariadb" and not _mariadb_11(stack, service):
                    continue
                yield Hit(stack.compose.path, line, f"{service.name}: {why}", fix)
        if (
            "buildctl" in command
            and "--addr" not in command
            and any(a.startswith("tcp://") for a in service.command)
            and not any(a.startswith("unix://") for a in service.command)
        ):
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: buildctl dials the unix socket, but buildkitd listens "
                "on tcp only",
                "use buildctl --addr tcp://127.0.0.1:1234 debug workers",
            )
        if any(image_tag(ref).endswith("distroless") for ref in service_images(stack, service)):
            yield Hit(
                stack.compose.path,
                line,
                f"{service.name}: a distroless image has no shell or tools",
                "use the busybox variant or an HTTP check from outside",
            )


def _mariadb_11(stack: Stack, service: Service) -> bool:
    for ref in service_images(stack, service):
        tag = image_tag(ref)
        major = tag.split(".")[0]
        if image_family(ref) == "mariadb" and (not major.isdigit() or int(major) >= 11):
            return True
    return False


@rule("CMP013", "tier dependency that does not wait for health or cannot start", Severity.ERROR)
def dependencies(stack: Stack) -> Iterator[Hit]:
    """Tiers wait with `service_healthy`; a dependency behind a profile is `required: false`."""
    services = stack.compose.services
    for service in services.values():
        for name, dependency in service.depends_on.items():
            line = _where(stack, service, "depends_on", name)
            target = services.get(name)
            if target is None:
                yield Hit(
                    stack.compose.path,
                    line,
                    f"{service.name} depends on unknown service {name}",
                    "fix the name or remove the dependency",
                )
                continue
            if (
                target.profiles
                and not set(target.profiles) & set(service.profiles)
                and (dependency.required)
            ):
                yield Hit(
                    stack.compose.path,
                    line,
                    f"{service.name} requires {name}, which only starts with profile "
                    f"{'/'.join(target.profiles)}",
                    "add required: false to the dependency",
                )
            if dependency.condition == "service_started" and target.healthcheck is not None:
                yield Hit(
                    stack.compose.path,
                    line,
                    f"{service.name} starts before {name} is healthy",
                    "use condition: service_healthy",
                    Severity.WARNING,
                )


@rule("CMP014", "runner settings that do the opposite of what they say", Severity.ERROR)
def runner_settings(stack: Stack) -> Iterator[Hit]:
    """The runner image turns EPHEMERAL on for any non-empty value, "false" included."""
    files = {stack.env.path: stack.env, **stack.env_files}
    for env_file in files.values():
        for entry in env_file.entries:
            if entry.key == "EPHEMERAL" and entry.value.lower() in ("false", "0", "no"):
                yield Hit(
                    env_file.path,
                    entry.line,
                    f"EPHEMERAL={entry.value} still turns ephemeral mode on",
                    "leave EPHEMERAL unset to disable it; set EPHEMERAL=1 to enable it",
                )
    for service in stack.compose.services.values():
        value = service.environment.get("EPHEMERAL")
        if value is not None and value.lower() in ("false", "0", "no"):
            yield Hit(
                stack.compose.path,
                _where(stack, service, "environment"),
                f"{service.name}: EPHEMERAL={value} still turns ephemeral mode on",
                "remove EPHEMERAL to disable it",
            )


def _cycle_from(start: str, graph: dict[str, list[str]]) -> list[str]:
    """A `depends_on` path from `start` back to itself, or [] when there is none."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, []):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return []


@rule("CMP015", "depends_on cycle", Severity.ERROR)
def dependency_cycles(stack: Stack) -> Iterator[Hit]:
    """Services that wait on each other (or on themselves), through any chain of `depends_on`
    and the dependencies compose adds (`links`, `volumes_from`, `network_mode: service:...`),
    never start."""
    graph = {
        name: [*s.depends_on, *s.implied_dependencies] for name, s in stack.compose.services.items()
    }
    reported: set[frozenset[str]] = set()
    for name in sorted(graph):
        cycle = _cycle_from(name, graph)
        members = frozenset(cycle)
        if not cycle or members in reported:
            continue
        reported.add(members)
        service = stack.compose.services[name]
        first = cycle[1]
        keys = ("depends_on", first) if first in service.depends_on else ()
        yield Hit(
            stack.compose.path,
            _where(stack, service, *(keys or (service.implied_dependencies[first],))),
            f"dependency cycle: {' -> '.join(cycle)}; compose cannot start any of them",
            "remove one dependency of the cycle (a tier waits only on lower tiers)",
        )


_TLS_FLAGS = ("--tlscacert", "--tlscert", "--tlskey")


@rule("CMP016", "BuildKit on TCP without mutual TLS", Severity.ERROR)
def buildkit_tls(stack: Stack) -> Iterator[Hit]:
    """A BuildKit daemon that listens on TCP runs builds (as root, with the daemon's rights) for
    whoever reaches the port: it may only listen with a CA, a certificate and a key."""
    for service in stack.compose.services.values():
        words = list(service.command)
        tcp = any(
            word.startswith("--addr=tcp://")
            or (
                word == "--addr"
                and index + 1 < len(words)
                and words[index + 1].startswith("tcp://")
            )
            for index, word in enumerate(words)
        )
        missing = [flag for flag in _TLS_FLAGS if not any(w.split("=")[0] == flag for w in words)]
        if tcp and missing:
            yield Hit(
                stack.compose.path,
                _where(stack, service, "command"),
                f"service {service.name} listens on TCP without {', '.join(missing)}",
                "pass --tlscacert, --tlscert and --tlskey (`invoke buildkit.certs` makes them), "
                "or listen on a unix socket only",
            )
