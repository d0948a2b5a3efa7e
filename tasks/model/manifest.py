"""MCP server manifests (`mcp/<name>/config/<name>.yml`): the one source of each server's config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.compose import Build, parse_build
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.model.schemas import MANIFEST, validate
from tasks.model.source import Document, load_yaml, present

REFERENCE_LABEL = "dev.mcp-cluster.reference"
"""The label naming the reference server an image runs (`filesystem`, `memory`, `github`, ...):
the rules written for that server's configuration apply to it."""
UPSTREAM_LABEL = "dev.mcp-cluster.upstream"
"""The label naming the published image (repository) a local image stands in for: a client
config that starts that image runs the same reference server."""
# How every stdio server is launched unless its manifest declares an exception with a reason.
HARDENING: dict[str, tuple[str, ...]] = {
    "init": ("--init",),
    "no_new_privileges": ("--security-opt", "no-new-privileges"),
    "cap_drop": ("--cap-drop", "ALL"),
    "read_only": ("--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m"),
    "limits": ("--memory", "512m", "--cpus", "1", "--pids-limit", "256"),
    "pull_never": ("--pull", "never"),
}
# The pull measure of a server pinned to a registry digest: a digest names exactly one image,
# where a pulled name could be anything.
PULL_PINNED = ("--pull", "missing")
# Transports of servers the stack serves over the network, and each one's mcp-proxy option.
REMOTE = {"sse": (), "http": ("--transport", "streamablehttp")}


@dataclass(frozen=True)
class SecretRef:
    """An environment variable passed by reference (its value never lives in a file)."""

    name: str
    input: str | None
    description: str


@dataclass(frozen=True)
class ManifestMount:
    """A mount: a named volume, a host path, or the user's workspace folder (whose `guard`
    paths a writable mount keeps read-only)."""

    type: str
    target: str
    source: str = ""
    read_only: bool = False
    guard: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeCall:
    """The harmless tool call that proves the server works, and text its answer must hold."""

    tool: str
    arguments: dict[str, Any]
    expect: str = ""
    docker_args: tuple[str, ...] = ()
    server_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class McpManifest:
    """One MCP server."""

    path: Path
    doc: Document
    name: str
    description: str
    image: str
    build: Build | None
    transport: str
    network: str
    args: tuple[str, ...]
    env: dict[str, str]
    secrets: tuple[SecretRef, ...]
    mounts: tuple[ManifestMount, ...]
    labels: dict[str, str]
    service: str | None
    probe: ProbeCall | None = None
    hardening_exceptions: dict[str, str] = field(default_factory=dict)
    pinned: str | None = None
    url: str = ""
    bridge: str = ""
    user: str = ""
    git_identity: bool = False

    @property
    def remote(self) -> bool:
        """True for a server the stack serves over the network (SSE or Streamable HTTP)."""
        return self.transport in REMOTE

    @property
    def workspace(self) -> ManifestMount | None:
        """The workspace mount, if the server has one."""
        return next((m for m in self.mounts if m.type == "workspace"), None)

    @property
    def run_image(self) -> str:
        """The image clients start: its pinned registry digest (images.lock.json), else the
        local image the stack builds."""
        return self.pinned or self.image

    def hardening_args(self) -> list[str]:
        """The launch options of every hardening measure this server does not opt out of; a
        server pinned to a registry digest may pull it when missing (`PULL_PINNED`)."""
        return [
            word
            for name, options in HARDENING.items()
            if name not in self.hardening_exceptions
            for word in (PULL_PINNED if name == "pull_never" and self.pinned else options)
        ]

    @property
    def folder_name(self) -> str:
        """Name of the server folder (`mcp/<name>/`) holding this manifest."""
        return self.path.parent.parent.name


def load_manifest(path: Path, env: Mapping[str, str]) -> McpManifest:
    """Load one manifest, validated against its JSON schema first (build values interpolated
    with `env`); every bad key is a `StackError` naming it."""
    doc = load_yaml(path, "MCP manifest")
    data = doc.data
    validate(
        doc,
        data,
        MANIFEST,
        "see mcp/git/config/git.yml (stdio) or mcp/postgres/config/postgres.yml (sse)",
    )
    try:
        resolved = _resolve(data.get("build"), Interpolator(env))
    except InterpolationError as error:
        raise StackError(
            path, str(error), error.fix, line=doc.line_of("build"), key="build"
        ) from None
    probe = data.get("probe")
    return McpManifest(
        path=path,
        doc=doc,
        name=data["name"],
        description=str(data.get("description", "")),
        image=str(data.get("image", "")),
        build=parse_build(resolved, path.parent),
        transport=data["transport"],
        network=str(data.get("network", "bridge")),
        args=tuple(str(a) for a in data.get("args", [])),
        env={str(k): str(v) for k, v in data.get("env", {}).items()},
        secrets=tuple(
            SecretRef(str(s["name"]), s.get("input"), str(s.get("description", "")))
            for s in data.get("secrets", [])
        ),
        mounts=tuple(
            ManifestMount(
                str(m["type"]),
                str(m["target"]),
                str(m.get("source", "")),
                bool(m.get("read_only")),
                tuple(str(g) for g in m.get("guard", ())),
            )
            for m in data.get("mounts", [])
        ),
        labels={str(k): str(v) for k, v in data.get("labels", {}).items()},
        service=data.get("service"),
        probe=ProbeCall(
            probe["tool"],
            dict(probe.get("arguments", {})),
            str(probe.get("expect", "")),
            tuple(probe.get("docker_args", ())),
            tuple(probe.get("server_args", ())),
        )
        if probe
        else None,
        hardening_exceptions={str(k): str(v) for k, v in data.get("hardening", {}).items()},
        url=str(data.get("url", "")),
        bridge=str(data.get("bridge", "")),
        user=str(data.get("user", "")),
        git_identity=bool(data.get("git_identity", False)),
    )


def manifest_paths(folder: Path) -> list[Path]:
    """Each server's manifest under a `.devcontainer` folder (`mcp/<name>/config/<name>.yml`),
    in folder order."""
    servers = sorted(p for p in (folder / "mcp").glob("*") if p.is_dir())
    paths = [server / "config" / f"{server.name}.yml" for server in servers]
    return [path for path in paths if present(path)]


def load_manifests(folder: Path, env: Mapping[str, str]) -> dict[str, McpManifest]:
    """Every server's manifest under a `.devcontainer` folder, by server name, in folder
    order."""
    loaded = (load_manifest(path, env) for path in manifest_paths(folder))
    return {manifest.name: manifest for manifest in loaded}


def _resolve(value: Any, interpolator: Interpolator) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, interpolator) for k, v in value.items()}
    return interpolator.resolve(value) if isinstance(value, str) else value
