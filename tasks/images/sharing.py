"""Sharing images and build cache through an OCI registry: where the stack's images live in it,
and what a bake needs to push them and to reuse their cache. Light to import: task modules
read its help text at `invoke --list`.

The registry is a prefix such as `ghcr.io/acme/mcp-cluster` or `127.0.0.1:5000/mcp`: image
`mcp-devcontainer:latest` becomes `<prefix>/mcp-devcontainer:latest`. Credentials are the
engine's own (`docker login`); nothing here reads or writes them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGISTRY_VARIABLE = "MCP_REGISTRY"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?)"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PREFIX = re.compile(rf"^{_HOST}(?:/{_PATH})*$")
_FIX = (
    "give a registry and path without scheme or tag, such as ghcr.io/acme/mcp-cluster or "
    "127.0.0.1:5000/mcp"
)
# Drivers whose BuildKit exports a separate cache to a registry (every stage: mode=max); the
# engine's own `docker` driver only embeds cache metadata in the pushed image (inline).
REGISTRY_CACHE_DRIVERS = ("docker-container", "remote", "kubernetes")


def parse_registry(value: str, source: str) -> str:
    """The registry prefix `value`, checked; `source` names where it came from (an option or a
    file and key) for the error."""
    prefix = value.strip().rstrip("/")
    # Never echo what precedes an `@`: it may be `user:token`.
    shown = repr(f"...@{value.rsplit('@', 1)[1]}" if "@" in value else value)
    if "://" in prefix or "@" in prefix or not _PREFIX.match(prefix):
        raise ValueError(f"{source}: {shown} is not a registry prefix; {_FIX}")
    host = prefix.split("/")[0]
    if "." not in host and ":" not in host and host != "localhost":
        raise ValueError(
            f"{source}: {shown} has no registry host (Docker would read it as a Docker Hub "
            f"repository); {_FIX}"
        )
    return prefix


def _repository(tag: str) -> tuple[str, str]:
    """(repository name, tag) of a local image reference: its last path component, without a
    registry host or digest; the tag after the last `:` of that component (`latest` if none)."""
    name = tag.split("@", 1)[0].rsplit("/", 1)[-1]
    repository, _, version = name.partition(":")
    return repository, version or "latest"


def registry_ref(prefix: str, tag: str) -> str:
    """Where local image `tag` (`mcp-git:latest`) lives in the registry."""
    repository, version = _repository(tag)
    return f"{prefix}/{repository}:{version}"


def cache_ref(prefix: str, tag: str) -> str:
    """The registry tag of an image's separate build cache (registry-cache drivers only)."""
    repository, version = _repository(tag)
    return f"{prefix}/{repository}:buildcache-{version}"


@dataclass(frozen=True)
class Sharing:
    """How one build uses the registry: its prefix, whether it pushes, and the builder's driver
    (which decides the cache format)."""

    prefix: str
    push: bool
    driver: str
    present: frozenset[str] = frozenset()

    @property
    def full_cache(self) -> bool:
        """True when the builder exports every stage's cache to the registry (mode=max)."""
        return self.driver in REGISTRY_CACHE_DRIVERS

    def target(self, target: dict[str, Any]) -> dict[str, Any]:
        """A bake target that imports the registry's cache (the tags in `present`); when
        pushing, it also tags its image for the registry and records its cache (in the image,
        or every stage's to the registry). The image always lands in the engine's store, which
        pushes the registry tag only (`pushes`), never the local name."""
        tag = target["tags"][0]
        sources = [f"type=registry,ref={r}" for r in self.cache_sources(tag) if r in self.present]
        shared = dict(target)
        if sources:
            shared["cache-from"] = sources
        if self.push:
            shared["tags"] = [*target["tags"], registry_ref(self.prefix, tag)]
            shared["cache-to"] = [
                f"type=registry,ref={cache_ref(self.prefix, tag)},mode=max"
                if self.full_cache
                else "type=inline"
            ]
        return shared

    def cache_sources(self, tag: str) -> list[str]:
        """The registry tag an image's build takes cache from: the pushed image (inline cache),
        or the separate cache a registry-cache builder exports. Docker 20.10's BuildKit fails a
        build on a cache tag that does not exist, so only those in `present` are used."""
        if self.full_cache:
            return [cache_ref(self.prefix, tag)]
        return [registry_ref(self.prefix, tag)]

    def pushes(self, tags: list[str]) -> list[str]:
        """The registry references to push for the built local `tags` (none unless pushing)."""
        return [registry_ref(self.prefix, tag) for tag in tags] if self.push else []

    def definition(self, definition: dict[str, Any]) -> dict[str, Any]:
        """A whole bake definition with every target shared through the registry."""
        targets = {name: self.target(t) for name, t in definition["target"].items()}
        return {**definition, "target": targets}


REGISTRY_HELP = (
    "registry prefix, e.g. ghcr.io/acme/mcp (default: $MCP_REGISTRY, else MCP_REGISTRY in "
    ".devcontainer/.env)"
)


def registry_setting(folder: Path, given: str) -> str | None:
    """The registry prefix to use: `--registry`, else $MCP_REGISTRY, else MCP_REGISTRY in
    `.devcontainer/.env`; None when none is set (images stay local)."""
    if given:
        return parse_registry(given, "--registry")
    if os.environ.get(REGISTRY_VARIABLE):
        return parse_registry(os.environ[REGISTRY_VARIABLE], f"${REGISTRY_VARIABLE}")
    from tasks.model.envfile import load_env_file
    from tasks.model.source import present
    from tasks.model.stack import LOCAL_ENV

    path = folder / LOCAL_ENV
    value = load_env_file(path).as_dict().get(REGISTRY_VARIABLE) if present(path) else None
    return parse_registry(value, f"{path} [{REGISTRY_VARIABLE}]") if value else None


def required_registry(folder: Path, given: str, what: str) -> str:
    """The registry setting, which `what` (an option or task) cannot do without: a
    `ValueError` saying how to set one when none is set."""
    prefix = registry_setting(folder, given)
    if prefix is None:
        raise ValueError(
            f"{what} needs a registry: pass --registry PREFIX or set MCP_REGISTRY (in the "
            "shell or .devcontainer/.env)"
        )
    return prefix


def loaded(definition: dict[str, Any], driver: str) -> dict[str, Any]:
    """The bake definition for a builder with `driver`: a builder outside the engine (any driver
    but `docker`) keeps results in its own cache unless told to load them into the engine's
    image store, where the stack runs them and `docker push` finds them."""
    if driver == "docker":
        return definition
    targets = {name: {**t, "output": ["type=docker"]} for name, t in definition["target"].items()}
    return {**definition, "target": targets}


def cache_note(sharing: Sharing) -> str | None:
    """What a push through this builder leaves out of the registry's cache, if anything."""
    if not sharing.push or sharing.full_cache:
        return None
    return (
        f"the {sharing.driver} driver embeds cache in each pushed image (inline): the stages "
        "the image copies from are cached through the layers they produce; for every stage's "
        "cache (mode=max) build with a docker-container builder (`--builder NAME`)"
    )


def pinned_ref(prefix: str, tag: str, digest: str) -> str:
    """Local image `tag` in the registry, pinned to `digest` (`registry/name@sha256:...`)."""
    return f"{prefix}/{_repository(tag)[0]}@{digest}"
