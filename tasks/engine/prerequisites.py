"""What the host must offer the stack, decided from what the probes saw: one row per
prerequisite, ok, warn or fail, with its fix (pure: tasks/engine/doctor.py asks the engine)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tasks.model.compose import Network
from tasks.model.versions import Versions

GIB = 1024**3


@dataclass(frozen=True)
class Wanted:
    """What the stack's files ask of the host: its networks' address pools and the
    free-threaded interpreters (`python3.14t`, ...) of the CPython lines versions.json pins."""

    networks: Sequence[Network] = ()
    interpreters: tuple[str, ...] = ("python3t",)

    @classmethod
    def of(cls, networks: Sequence[Network], versions: Versions | None) -> Wanted:
        """The networks and the interpreter names of every pinned line, newest first."""
        lines = {pin.line for pin in versions.all_pins()} if versions else set()
        ordered = sorted(lines, key=lambda line: tuple(int(n) for n in line.split(".")))
        return cls(tuple(networks), (*(f"python{line}t" for line in reversed(ordered)), "python3t"))

    @property
    def subnets(self) -> list[str]:
        """Every subnet the stack's networks pin."""
        return [str(subnet) for network in self.networks for subnet in network.subnets]


@dataclass(frozen=True)
class Row:
    """One prerequisite: ok, warn or fail, with what was seen and how to fix it."""

    check: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Facts:
    """What the probes saw (None: the probe could not tell)."""

    engine_version: str | None = None
    engine_error: str | None = None
    api_version: str | None = None
    buildx_version: str | None = None
    compose_version: str | None = None
    free_bytes: int | None = None
    runtimes: list[str] = field(default_factory=list)
    free_threaded: dict[str, bool] = field(default_factory=dict)
    mmdebstrap: bool = False
    overlapping_networks: list[str] = field(default_factory=list)
    stack_subnets: list[str] = field(default_factory=list)
    interpreters: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def evaluate(facts: Facts) -> list[Row]:
    """Turn probe results into one row per prerequisite."""
    provision = "scripts/provision-engine.sh (as root)"
    rows = [
        Row("docker engine", "ok", f"{facts.engine_version} (API {facts.api_version})")
        if facts.engine_version
        else Row("docker engine", "fail", facts.engine_error or "not reachable", provision),
        Row("buildx", "ok", facts.buildx_version)
        if facts.buildx_version
        else Row("buildx", "fail", "docker buildx is missing", provision),
    ]
    compose = facts.compose_version or ""
    rows.append(
        Row("compose v2", "ok", compose)
        if " v2" in compose or "version 2" in compose
        else Row("compose v2", "fail", compose or "docker compose is missing", provision)
    )
    free = (facts.free_bytes or 0) / GIB
    rows.append(
        Row(
            "disk space",
            "ok" if free >= 10 else "warn" if free >= 3 else "fail",
            f"{free:.1f} GiB free",
            "" if free >= 10 else "free space: `invoke build.cache --prune`",
        )
    )
    rows.append(
        Row("NVIDIA runtime", "ok", "present")
        if "nvidia" in facts.runtimes
        else Row(
            "NVIDIA runtime",
            "warn",
            "no NVIDIA runtime on this host: the GPU service's GPU is not exercised",
            "install the NVIDIA Container Toolkit (.devcontainer/docs/setup/gpu-setup.md)",
        )
    )
    good = [path for path, ok in facts.free_threaded.items() if ok]
    rows.append(
        Row("free-threaded Python", "ok", ", ".join(good))
        if good
        else Row(
            "free-threaded Python",
            "warn",
            "none of " + ", ".join(facts.interpreters) + " on PATH",
            "invoke python.freethreaded, then put its bin folder on PATH",
        )
    )
    rows.append(
        Row("mmdebstrap", "ok", "present")
        if facts.mmdebstrap
        else Row(
            "mmdebstrap",
            "warn",
            "missing: the offline profile cannot be seeded",
            "apt-get install -y mmdebstrap",
        )
    )
    rows.append(
        Row(
            "address pool",
            "warn",
            f"overlaps {', '.join(facts.stack_subnets)}: " + ", ".join(facts.overlapping_networks),
            "remove those networks (docker network rm) before `invoke stack.up`",
        )
        if facts.overlapping_networks
        else Row("address pool", "ok", f"{', '.join(facts.stack_subnets)} free")
        if facts.stack_subnets
        else Row("address pool", "ok", "the stack pins no subnet")
    )
    return rows
