"""MCP server manifests (`mcp/<name>/config/<name>.yml`): the one source of each server's config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.compose import Build, parse_build
from tasks.model.errors import StackError
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.model.source import Document, load_yaml

TRANSPORTS = ("stdio", "compose")
MOUNT_TYPES = ("volume", "bind", "workspace")
_KEYS = {
    "name",
    "description",
    "image",
    "build",
    "transport",
    "network",
    "args",
    "env",
    "secrets",
    "mounts",
    "labels",
    "service",
}


@dataclass(frozen=True)
class SecretRef:
    """An environment variable passed by reference (its value never lives in a file)."""

    name: str
    input: str | None
    description: str


@dataclass(frozen=True)
class ManifestMount:
    """A mount: a named volume, a host path, or the user's workspace folder."""

    type: str
    target: str
    source: str = ""
    read_only: bool = False


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

    @property
    def folder_name(self) -> str:
        """Name of the server folder (`mcp/<name>/`) holding this manifest."""
        return self.path.parent.parent.name


def load_manifest(path: Path, env: Mapping[str, str]) -> McpManifest:
    """Load and validate one manifest (build values interpolated with `env`); every bad key is a
    `StackError` naming it."""
    doc = load_yaml(path, "MCP manifest")
    data = doc.data
    if not isinstance(data, dict):
        raise StackError(path, "a manifest must be a mapping", "see mcp/fetch/config/fetch.yml")

    def fail(key: str, problem: str, fix: str) -> StackError:
        return StackError(path, problem, fix, line=doc.line_of(key), key=key)

    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise fail(
            unknown[0], f"unknown key {unknown[0]!r}", f"use only {', '.join(sorted(_KEYS))}"
        )
    for key in ("name", "image", "transport"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise fail(key, f"missing or empty {key!r}", f"set {key}: to a string")
    if data["transport"] not in TRANSPORTS:
        raise fail("transport", f"transport {data['transport']!r}", f"use one of {TRANSPORTS}")
    build = data.get("build")
    if build is not None and (not isinstance(build, dict) or "context" not in build):
        raise fail("build", "build needs a context", "write build: {context: .., dockerfile: ...}")
    try:
        resolved = _resolve(build, Interpolator(env))
    except InterpolationError as error:
        raise fail("build", str(error), error.fix) from None
    return McpManifest(
        path=path,
        doc=doc,
        name=data["name"],
        description=str(data.get("description", "")),
        image=data["image"],
        build=parse_build(resolved, path.parent),
        transport=data["transport"],
        network=str(data.get("network", "bridge")),
        args=tuple(str(a) for a in _list(data, "args", fail)),
        env={str(k): str(v) for k, v in _dict(data, "env", fail).items()},
        secrets=tuple(_secret(item, fail) for item in _list(data, "secrets", fail)),
        mounts=tuple(_mount(item, fail) for item in _list(data, "mounts", fail)),
        labels={str(k): str(v) for k, v in _dict(data, "labels", fail).items()},
        service=data.get("service"),
    )


def _resolve(value: Any, interpolator: Interpolator) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, interpolator) for k, v in value.items()}
    return interpolator.resolve(value) if isinstance(value, str) else value


def _list(data: dict[str, Any], key: str, fail: Any) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise fail(key, f"{key!r} must be a list", f"write {key}: [ ... ]")
    return value


def _dict(data: dict[str, Any], key: str, fail: Any) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise fail(key, f"{key!r} must be a mapping", f"write {key}: {{NAME: value}}")
    return value


def _secret(item: Any, fail: Any) -> SecretRef:
    if not isinstance(item, dict) or not item.get("name"):
        raise fail("secrets", "each secret needs a name", "write - {name: VAR, input: id}")
    if "value" in item:
        raise fail("secrets", f"secret {item['name']} carries a value", "remove the value")
    return SecretRef(str(item["name"]), item.get("input"), str(item.get("description", "")))


def _mount(item: Any, fail: Any) -> ManifestMount:
    if not isinstance(item, dict) or item.get("type") not in MOUNT_TYPES or not item.get("target"):
        raise fail("mounts", f"bad mount {item!r}", f"type one of {MOUNT_TYPES} with a target")
    if item["type"] != "workspace" and not item.get("source"):
        raise fail("mounts", f"{item['type']} mount without source", "add source:")
    return ManifestMount(
        str(item["type"]),
        str(item["target"]),
        str(item.get("source", "")),
        bool(item.get("read_only")),
    )
