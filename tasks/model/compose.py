"""The compose file as typed services, networks, volumes and secrets (after interpolation)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.model.schemas import COMPOSE, validate
from tasks.model.source import Document, KeyPath, load_yaml
from tasks.model.verifyspec import KEY as VERIFY_KEY
from tasks.model.verifyspec import Verify, parse_verify


@dataclass(frozen=True)
class Unresolved:
    """A `${VAR}` without default whose variable no env file defines."""

    variable: str
    path: Path
    line: int | None
    key: str


@dataclass(frozen=True)
class Port:
    """A published port."""

    host_ip: str
    host_port: str
    container_port: str
    protocol: str = "tcp"

    @property
    def loopback_only(self) -> bool:
        """True when bound to a loopback address only."""
        try:
            return ipaddress.ip_address(self.host_ip.strip("[]")).is_loopback
        except ValueError:
            return False


@dataclass(frozen=True)
class Mount:
    """A volume, bind or tmpfs mount."""

    type: str
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class Build:
    """A service's build section with paths resolved from the compose file's folder."""

    context: Path
    dockerfile: Path
    args: dict[str, str]
    target: str | None = None


@dataclass(frozen=True)
class Dependency:
    """One `depends_on` entry."""

    condition: str
    required: bool = True


@dataclass(frozen=True)
class Healthcheck:
    """A healthcheck; `test` is the command as a list, or as the one string a shell runs
    (`shell`: CMD-SHELL or a plain string)."""

    test: tuple[str, ...]
    disabled: bool
    options: dict[str, Any]
    shell: bool = False

    def runs(self, command: tuple[str, ...]) -> bool:
        """Whether the engine runs exactly `command` (an argument list, no shell) as this
        check."""
        return not self.disabled and not self.shell and self.test == command

    @property
    def command(self) -> str:
        """The check as one readable command line."""
        return " ".join(self.test)


@dataclass(frozen=True)
class Service:
    """One compose service."""

    name: str
    image: str | None
    build: Build | None
    container_name: str | None
    hostname: str | None
    ports: tuple[Port, ...]
    mounts: tuple[Mount, ...]
    env_files: tuple[Path, ...]
    environment: dict[str, str | None]
    healthcheck: Healthcheck | None
    restart: str | None
    depends_on: dict[str, Dependency]
    networks: dict[str, str | None]
    profiles: tuple[str, ...]
    privileged: bool
    devices: tuple[dict[str, Any], ...]
    labels: dict[str, str]
    secrets: tuple[str, ...]
    security: dict[str, str]
    command: tuple[str, ...]
    user: str | None
    raw: dict[str, Any] = field(repr=False)
    verify: Verify = field(default_factory=Verify)
    generated: dict[str, str] = field(default_factory=dict)

    @property
    def gpu_devices(self) -> list[dict[str, Any]]:
        """Device reservations that ask for a GPU."""
        return [
            d
            for d in self.devices
            if "gpu" in (d.get("capabilities") or []) or d.get("driver") == "nvidia"
        ]

    @property
    def reserves_gpu(self) -> bool:
        """True when the service asks for a GPU: a device reservation with capability `gpu`
        (or the nvidia driver), or a `gpus:` key."""
        return bool(self.gpu_devices or self.raw.get("gpus"))

    @property
    def implied_dependencies(self) -> dict[str, str]:
        """Services this one needs without `depends_on`, as compose adds them (`links`,
        `volumes_from`, and `service:NAME` in `network_mode`, `ipc` or `pid`): each with the
        key that names it."""
        found: dict[str, str] = {}
        for key in ("links", "volumes_from"):
            for item in self.raw.get(key) or []:
                name = str(item).split(":", 1)
                if name[0] != "container":
                    found.setdefault(name[0], key)
        for key in ("network_mode", "ipc", "pid"):
            value = str(self.raw.get(key) or "")
            if value.startswith("service:"):
                found.setdefault(value.removeprefix("service:"), key)
        return found

    def mounts_docker_socket(self) -> bool:
        """True when the Docker socket is bind-mounted."""
        return any(m.source.endswith("docker.sock") for m in self.mounts if m.type == "bind")


Subnet = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Network:
    """A network and the name Docker will give it."""

    key: str
    name: str
    explicit_name: bool
    external: bool
    subnets: tuple[Subnet, ...]
    ip_ranges: tuple[Subnet, ...]
    gateways: tuple[str, ...]


def overlaps(subnet: Subnet, pools: Sequence[Subnet]) -> bool:
    """Whether `subnet` shares an address with any of `pools` (of the same IP version)."""
    return any(subnet.version == pool.version and subnet.overlaps(pool) for pool in pools)


@dataclass(frozen=True)
class Volume:
    """A top-level named volume."""

    key: str
    name: str
    explicit_name: bool
    external: bool


@dataclass(frozen=True)
class ComposeFile:
    """A compose file after interpolation."""

    path: Path
    project: str
    doc: Document
    services: dict[str, Service]
    networks: dict[str, Network]
    volumes: dict[str, Volume]
    secrets: dict[str, dict[str, Any]]
    unresolved: tuple[Unresolved, ...]
    used_variables: frozenset[str]

    @property
    def folder(self) -> Path:
        """Folder that relative paths in the file are resolved from."""
        return self.path.parent

    def line(self, *keys: str | int) -> int | None:
        """Line of a key path in the file."""
        return self.doc.line_of(*keys)

    def volume_names(self) -> list[str]:
        """Docker's names of the volumes the stack owns (external ones left out), sorted."""
        return sorted(volume.name for volume in self.volumes.values() if not volume.external)

    def network_names(self) -> set[str]:
        """Names `docker run --network` can use once the stack is up."""
        return {network.name for network in self.networks.values()}

    @property
    def gpu_service(self) -> str | None:
        """The service that holds the GPU: the first one that reserves a GPU (any later one
        is a finding of rule CMP008); None when no service does."""
        return next((s.name for s in self.services.values() if s.reserves_gpu), None)


def load_compose(path: Path, env: Mapping[str, str]) -> ComposeFile:
    """Load, interpolate and type a compose file; raise `StackError` on malformed input."""
    doc = load_yaml(path, "compose file")
    if not isinstance(doc.data, dict):
        raise StackError(path, "a compose file must be a mapping", "start with `services:`")
    interpolator = Interpolator(env)
    unresolved: list[Unresolved] = []
    data = _interpolate(doc, doc.data, (), interpolator, unresolved)
    validate(
        doc,
        data,
        COMPOSE,
        "make it match the Compose Specification (https://compose-spec.io); "
        "`docker compose config` shows compose's own reading",
    )
    project = project_name(data, path)
    services_raw = data.get("services")
    if not isinstance(services_raw, dict) or not services_raw:
        raise StackError(path, "no services defined", "add a `services:` mapping", key="services")
    networks = _networks(data.get("networks") or {}, project, doc)
    services = {
        name: _service(name, spec or {}, path.parent, doc) for name, spec in services_raw.items()
    }
    _check_routes(services, doc)
    volumes = {
        key: Volume(
            key,
            volume_name(key, spec, project),
            bool((spec or {}).get("name")),
            bool((spec or {}).get("external")),
        )
        for key, spec in (data.get("volumes") or {}).items()
    }
    return ComposeFile(
        path,
        project,
        doc,
        services,
        networks,
        volumes,
        dict(data.get("secrets") or {}),
        tuple(unresolved),
        frozenset(interpolator.used),
    )


def volume_name(key: str, spec: Mapping[str, Any] | None, project: str) -> str:
    """The Docker name of top-level volume `key`: its `name:`, else `<project>_<key>`."""
    return str((spec or {}).get("name") or f"{project}_{key}")


def project_name(data: Mapping[str, Any], path: Path) -> str:
    """Compose's project name: the file's `name:`, else its folder's name, normalised."""
    return re.sub(r"[^a-z0-9_-]", "", str(data.get("name") or path.parent.name).lower())


def _interpolate(
    doc: Document, value: Any, keys: KeyPath, interpolator: Interpolator, out: list[Unresolved]
) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(doc, v, (*keys, k), interpolator, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(doc, v, (*keys, i), interpolator, out) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    before = len(interpolator.undefined)
    key = ".".join(str(k) for k in keys)
    try:
        resolved = interpolator.resolve(value)
    except InterpolationError as error:
        raise StackError(
            doc.path,
            str(error),
            error.fix,
            line=doc.line_of(*keys),
            key=key,
        ) from None
    for name in interpolator.undefined[before:]:
        out.append(Unresolved(name, doc.path, doc.line_of(*keys), key))
    del interpolator.undefined[before:]
    return resolved


def _networks(raw: dict[str, Any], project: str, doc: Document) -> dict[str, Network]:
    networks: dict[str, Network] = {}
    for key, raw_spec in {"default": None, **raw}.items():
        spec = raw_spec or {}
        configs = (spec.get("ipam") or {}).get("config") or []
        try:
            subnets = tuple(ipaddress.ip_network(c["subnet"]) for c in configs if c.get("subnet"))
            ranges = tuple(
                ipaddress.ip_network(c["ip_range"]) for c in configs if c.get("ip_range")
            )
        except ValueError as error:
            raise StackError(
                doc.path,
                f"network {key}: {error}",
                "write subnets and ip_range as CIDR, e.g. 172.20.0.0/16",
                line=doc.line_of("networks", key, "ipam"),
                key=f"networks.{key}.ipam",
            ) from None
        name = spec.get("name")
        networks[key] = Network(
            key,
            str(name or f"{project}_{key}"),
            bool(name),
            bool(spec.get("external")),
            subnets,
            ranges,
            tuple(str(c["gateway"]) for c in configs if c.get("gateway")),
        )
    return networks


def _service(name: str, spec: dict[str, Any], folder: Path, doc: Document) -> Service:
    where = ("services", name)

    def fail(key: str, problem: str, fix: str) -> StackError:
        return StackError(
            doc.path, problem, fix, line=doc.line_of(*where, key), key=f"services.{name}.{key}"
        )

    env_files = spec.get("env_file") or []
    env_files = [env_files] if isinstance(env_files, (str, dict)) else env_files
    healthcheck = spec.get("healthcheck")
    deploy_devices = (
        ((spec.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    ).get("devices") or []
    command = spec.get("command") or ()
    return Service(
        name=name,
        image=spec.get("image"),
        build=parse_build(spec.get("build"), folder),
        container_name=spec.get("container_name"),
        hostname=spec.get("hostname"),
        ports=tuple(_port(p, fail) for p in spec.get("ports") or []),
        mounts=tuple(_mount(v, fail) for v in spec.get("volumes") or []),
        env_files=tuple(
            (folder / (e["path"] if isinstance(e, dict) else e)).resolve(strict=False)
            for e in env_files
        ),
        environment=_environment(spec.get("environment")),
        healthcheck=_healthcheck(healthcheck) if isinstance(healthcheck, dict) else None,
        restart=spec.get("restart"),
        depends_on=_depends(spec.get("depends_on")),
        networks=_service_networks(spec.get("networks"), name, doc),
        profiles=tuple(spec.get("profiles") or ()),
        privileged=bool(spec.get("privileged")),
        devices=tuple(deploy_devices),
        labels=_labels(spec.get("labels")),
        secrets=tuple(s if isinstance(s, str) else s["source"] for s in spec.get("secrets") or []),
        security={str(k): str(v) for k, v in (spec.get("x-security") or {}).items()},
        generated=_generated(spec.get("x-generated"), fail),
        command=tuple(command.split() if isinstance(command, str) else map(str, command)),
        user=str(spec["user"]) if spec.get("user") is not None else None,
        raw=spec,
        verify=parse_verify(spec.get(VERIFY_KEY), name, doc),
    )


def _check_routes(services: Mapping[str, Service], doc: Document) -> None:
    """Every `x-verify` route leads to a service of this file."""
    for name, service in services.items():
        for route, target in service.verify.routes.items():
            if target not in services:
                keys = ("services", name, VERIFY_KEY, "routes", route)
                raise StackError(
                    doc.path,
                    f"route {route} leads to {target!r}, which is not a service of this file",
                    f"name one of: {', '.join(services)}",
                    line=doc.line_of(*keys),
                    key=".".join(keys),
                )


def parse_build(raw: Any, folder: Path) -> Build | None:
    """A compose-style build section (string or mapping), paths resolved from `folder`."""
    if raw is None:
        return None
    spec: dict[str, Any] = {"context": raw} if isinstance(raw, str) else dict(raw)
    context = (folder / str(spec.get("context", "."))).resolve(strict=False)
    dockerfile = context / str(spec.get("dockerfile", "Dockerfile"))
    raw_args = spec.get("args") or {}
    args = (
        dict(str(a).partition("=")[::2] for a in raw_args)
        if isinstance(raw_args, list)
        else {str(k): str(v) for k, v in raw_args.items()}
    )
    return Build(context, dockerfile, args, spec.get("target"))


def _port(raw: Any, fail: Any) -> Port:
    if isinstance(raw, dict):
        return Port(
            str(raw.get("host_ip") or ""),
            str(raw.get("published") or ""),
            str(raw.get("target")),
            str(raw.get("protocol") or "tcp"),
        )
    text, _, protocol = str(raw).partition("/")
    host_ip = ""
    if text.startswith("["):
        host_ip, _, text = text[1:].partition("]")
        text = text.removeprefix(":")
    parts = text.split(":")
    if len(parts) == 3 and not host_ip:
        host_ip = parts.pop(0)
    if len(parts) > 2 or not all(re.fullmatch(r"[0-9-]*", p) for p in parts) or not parts[-1]:
        raise fail("ports", f"cannot read port {raw!r}", "write [HOST_IP:]HOST_PORT:CONTAINER_PORT")
    host_port = parts[0] if len(parts) == 2 else ""
    return Port(host_ip, host_port, parts[-1], protocol or "tcp")


def _mount(raw: Any, fail: Any) -> Mount:
    if isinstance(raw, dict):
        return Mount(
            str(raw.get("type", "volume")),
            str(raw.get("source", "")),
            str(raw.get("target", "")),
            bool(raw.get("read_only")),
        )
    parts = str(raw).split(":")
    if len(parts) == 1:
        return Mount("volume", "", parts[0])
    if len(parts) > 3:
        raise fail("volumes", f"cannot read volume {raw!r}", "write SOURCE:TARGET[:ro]")
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    kind = "bind" if source[:1] in "./~" else "volume"
    return Mount(kind, source, target, "ro" in mode.split(","))


def _environment(raw: Any) -> dict[str, str | None]:
    if isinstance(raw, dict):
        return {str(k): None if v is None else str(v) for k, v in raw.items()}
    env: dict[str, str | None] = {}
    for item in raw or []:
        key, sep, value = str(item).partition("=")
        env[key] = value if sep else None
    return env


def _healthcheck(raw: dict[str, Any]) -> Healthcheck:
    test = raw.get("test") or []
    if isinstance(test, str):
        test = ["CMD-SHELL", test]
    disabled = bool(raw.get("disable")) or (test[:1] == ["NONE"])
    command = tuple(test[1:]) if test[:1] in (["CMD"], ["CMD-SHELL"]) else tuple(test)
    options = {k: v for k, v in raw.items() if k not in ("test", "disable")}
    return Healthcheck(command, disabled, options, shell=test[:1] == ["CMD-SHELL"])


def _depends(raw: Any) -> dict[str, Dependency]:
    if isinstance(raw, list):
        return {str(name): Dependency("service_started") for name in raw}
    return {
        str(name): Dependency(
            str((spec or {}).get("condition", "service_started")),
            bool((spec or {}).get("required", True)),
        )
        for name, spec in (raw or {}).items()
    }


def _service_networks(raw: Any, service: str, doc: Document) -> dict[str, str | None]:
    if raw is None:
        return {"default": None}
    if isinstance(raw, list):
        return {str(key): None for key in raw}
    found = {str(key): (spec or {}).get("ipv4_address") for key, spec in raw.items()}
    for network, address in found.items():
        try:
            if address:
                ipaddress.IPv4Address(address)
        except ValueError:
            keys = ("services", service, "networks", network, "ipv4_address")
            raise StackError(
                doc.path,
                f"{address!r} is not an IPv4 address",
                "write four numbers 0-255, e.g. 172.20.0.20",
                line=doc.line_of(*keys),
                key=".".join(keys),
            ) from None
    return found


def _labels(raw: Any) -> dict[str, str]:
    if isinstance(raw, list):
        return dict(str(item).partition("=")[::2] for item in raw)
    return {str(k): str(v) for k, v in (raw or {}).items()}


def _generated(raw: Any, fail: Callable[[str, str, str], StackError]) -> dict[str, str]:
    """`x-generated`: bind-mount sources a task makes (gitignored), each with the command that
    makes it."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise fail(
            "x-generated",
            "is not a mapping of paths to the commands that make them",
            "write `./path: invoke TASK`, one line per path",
        )
    return {str(path): command for path, command in raw.items()}
