"""Derived views the rules share: what a service runs on, what environment reaches it, and how
each MCP server is started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tasks.model.compose import Service
from tasks.model.dockerfile import Dockerfile, parse_env_instruction
from tasks.model.dockerrun import DockerRun, parse_docker_run
from tasks.model.launchpolicy import repository
from tasks.model.manifest import REFERENCE_LABEL, UPSTREAM_LABEL, McpManifest
from tasks.model.stack import Stack

BUILTIN_NETWORKS = frozenset({"bridge", "host", "none", "default"})


@dataclass(frozen=True)
class Setting:
    """A variable's value and where it was set."""

    value: str | None
    path: Path
    line: int | None


def image_family(ref: str) -> str:
    """`registry/org/name:tag@digest` -> `name` (lowercase)."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def image_tag(ref: str) -> str:
    """The tag of an image reference (`latest` when none is given)."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def service_dockerfile(stack: Stack, service: Service) -> Dockerfile | None:
    """The Dockerfile a service builds from, as its build target sees it, when it builds and
    the file and the target exist (DF006 reports a missing target)."""
    return stack.built_dockerfile(service.build)


def image_views(stack: Stack) -> Iterator[Dockerfile]:
    """Every image the stack's Dockerfiles can build, each as its build sees the file (a
    Dockerfile with several targets gives several)."""
    for dockerfile in stack.dockerfiles.values():
        yield from dockerfile.images()


def service_images(stack: Stack, service: Service) -> list[str]:
    """Upstream images a service runs on: its `image:` or its Dockerfile's resolved bases."""
    dockerfile = service_dockerfile(stack, service)
    if dockerfile is None:
        return [service.image] if service.image and not service.build else []
    args = service.build.args if service.build else {}
    lineage = dockerfile.lineage()
    return [
        dockerfile.resolve(stage.base, args)
        for stage in lineage
        if dockerfile.stage_named(dockerfile.resolve(stage.base, args)) is None
    ]


def is_free_threaded(dockerfile: Dockerfile | None) -> bool:
    """True when the image's Python is built without the GIL.

    That is `--disable-gil` (or a `3.Xt` interpreter installed by uv) in the Dockerfile or in a
    build script it copies in.
    """
    if dockerfile is None:
        return False
    text = dockerfile.text_of_lineage() + "\n" + copied_scripts(dockerfile)
    return "--disable-gil" in text or bool(re.search(r"python install\s+\S*3\.\d+t\b", text))


def copied_scripts(dockerfile: Dockerfile) -> str:
    """Text of the shell scripts the Dockerfile COPYs from its build folder."""
    texts = []
    for ins in dockerfile.instructions():
        for source in ins.context_sources() if ins.keyword == "COPY" else []:
            path = dockerfile.path.parent / source
            if path.suffix == ".sh" and path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


def dockerfile_env(dockerfile: Dockerfile) -> dict[str, Setting]:
    """ENV of the final stage and its local parents (parents first, so children win)."""
    env: dict[str, Setting] = {}
    for stage in reversed(dockerfile.lineage()):
        for ins in stage.of("ENV"):
            for key, value in parse_env_instruction(ins.value).items():
                env[key] = Setting(value, dockerfile.path, ins.line)
    return env


def effective_env(stack: Stack, service: Service) -> dict[str, Setting]:
    """Environment a service's container gets: image ENV, then env_file, then `environment:`."""
    dockerfile = service_dockerfile(stack, service)
    env = dockerfile_env(dockerfile) if dockerfile else {}
    for path in service.env_files:
        env_file = stack.env_files.get(path)
        if env_file is not None:
            for entry in env_file.entries:
                env[entry.key] = Setting(entry.value, path, entry.line)
    line = stack.compose.line("services", service.name, "environment")
    for key, value in service.environment.items():
        env[key] = Setting(
            value,
            stack.compose.path,
            stack.compose.line("services", service.name, "environment", key) or line,
        )
    return env


@dataclass(frozen=True)
class ServerRun:
    """How one MCP server is started, from a manifest or from a client config file."""

    name: str
    path: Path
    line: int | None
    kind: str
    image: str
    args: tuple[str, ...]
    env: dict[str, str | None]
    mount_targets: tuple[str, ...]
    mount_sources: tuple[str, ...]
    network: str | None
    run: DockerRun | None
    manifest: McpManifest | None = None
    reference: str | None = None
    """The reference server it runs: its `dev.mcp-cluster.reference` label, or the label of
    the manifest whose image it starts; None for any other server."""


def reference_of(labels: list[str], image: str, manifests: Iterable[McpManifest]) -> str | None:
    """The reference server a launch runs: its own `--label dev.mcp-cluster.reference=NAME`,
    else the label of the manifest whose image, or the published image it stands in for
    (`dev.mcp-cluster.upstream`), is the same repository (any tag)."""
    for label in labels:
        key, _, value = label.partition("=")
        if key == REFERENCE_LABEL:
            return value
    started = repository(image)
    for manifest in manifests:
        images = (manifest.image, manifest.labels.get(UPSTREAM_LABEL, ""))
        if started and started in map(repository, images) and REFERENCE_LABEL in manifest.labels:
            return manifest.labels[REFERENCE_LABEL]
    return None


def server_runs(stack: Stack) -> list[ServerRun]:
    """Every stdio server: manifests first, then each client config's `docker run` servers."""
    runs: list[ServerRun] = []
    for manifest in stack.manifests.values():
        if manifest.transport != "stdio":
            continue
        env: dict[str, str | None] = dict(manifest.env)
        env.update({secret.name: None for secret in manifest.secrets})
        runs.append(
            ServerRun(
                manifest.name,
                manifest.path,
                manifest.doc.line_of("name"),
                "manifest",
                manifest.image,
                manifest.args,
                env,
                tuple(m.target for m in manifest.mounts),
                tuple(m.source or "workspace" for m in manifest.mounts),
                manifest.network,
                None,
                manifest,
                manifest.labels.get(REFERENCE_LABEL),
            )
        )
    for client in (stack.devcontainer, *stack.clients):
        for server in (*client.servers.values(), *client.misplaced.values()):
            run = parse_docker_run(server.command, server.args)
            if run is None:
                continue
            env = dict(run.env)
            env.update(server.env)
            networks = run.values("--network")
            runs.append(
                ServerRun(
                    server.name,
                    client.path,
                    client.doc.line_of(*server.keys),
                    client.kind,
                    run.image,
                    run.args,
                    env,
                    tuple(run.mount_targets()),
                    tuple(run.mount_sources()),
                    networks[-1] if networks else None,
                    run,
                    reference=reference_of(
                        run.values("--label"), run.image, stack.manifests.values()
                    ),
                )
            )
    return runs


def under(path: str, targets: tuple[str, ...] | list[str]) -> bool:
    """True when `path` lies at or below one of the mount `targets`."""
    clean = path.rstrip("/") or "/"
    return any(clean == t.rstrip("/") or clean.startswith(t.rstrip("/") + "/") for t in targets)
