"""Volumes: data lands on named volumes, volumes are declared and named, and non-root services
own their mount points.
"""

from __future__ import annotations

from collections.abc import Iterator

from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import (
    effective_env,
    image_family,
    server_runs,
    service_dockerfile,
    service_images,
    under,
)

# Image family -> (variable that moves the data, default data path)
_DATA_PATHS: dict[str, tuple[str | None, str]] = {
    "postgres": ("PGDATA", "/var/lib/postgresql/data"),
    "mariadb": (None, "/var/lib/mysql"),
    "mysql": (None, "/var/lib/mysql"),
    "prometheus": (None, "/prometheus"),
    "grafana": ("GF_PATHS_DATA", "/var/lib/grafana"),
    "buildkit": (None, "/var/lib/buildkit"),
}


@rule("VOL001", "data written outside a mounted volume", Severity.ERROR)
def data_on_volumes(stack: Stack) -> Iterator[Hit]:
    """Databases, metrics, dashboards, build cache and the memory graph persist only on volumes."""
    for service in stack.compose.services.values():
        targets = [m.target for m in service.mounts if m.type in ("volume", "bind")]
        env = effective_env(stack, service)
        for family in {image_family(ref) for ref in service_images(stack, service)}:
            if family not in _DATA_PATHS:
                continue
            variable, default = _DATA_PATHS[family]
            setting = env.get(variable) if variable else None
            path = setting.value if setting and setting.value else default
            if not under(path, targets):
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", service.name),
                    f"service {service.name} keeps its data in {path}, which is not on a volume",
                    f"mount a named volume at {path}",
                )
    for run in server_runs(stack):
        if run.reference != "memory":
            continue
        memory_file = run.env.get("MEMORY_FILE_PATH")
        if not memory_file:
            yield Hit(
                run.path,
                run.line,
                f"server {run.name} writes its graph inside the package folder; it is lost "
                "when the container exits",
                "set MEMORY_FILE_PATH to a file on the mounted volume, e.g. /memory/memory.jsonl",
            )
        elif not under(memory_file, run.mount_targets):
            yield Hit(
                run.path,
                run.line,
                f"server {run.name}: MEMORY_FILE_PATH={memory_file} is not on a mounted volume",
                "mount a named volume at its folder",
            )


@rule("VOL002", "named volume undeclared or without a fixed name", Severity.ERROR)
def declared_volumes(stack: Stack) -> Iterator[Hit]:
    """Services mount only declared volumes, and each volume keeps the same name across projects."""
    volumes = stack.compose.volumes
    for service in stack.compose.services.values():
        for index, mount in enumerate(service.mounts):
            if mount.type == "volume" and mount.source and mount.source not in volumes:
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", service.name, "volumes", index),
                    f"service {service.name} mounts undeclared volume {mount.source}",
                    f"declare volumes.{mount.source} with name: {mount.source}",
                )
    for volume in volumes.values():
        if not volume.explicit_name and not volume.external:
            yield Hit(
                stack.compose.path,
                stack.compose.line("volumes", volume.key),
                f"volume {volume.key} will be called {volume.name}",
                f"add name: {volume.key} so backups and stdio servers find it",
                Severity.WARNING,
            )


@rule("VOL003", "non-root service whose mount point it does not own", Severity.WARNING)
def volume_permissions(stack: Stack) -> Iterator[Hit]:
    """A fresh named volume copies the ownership of its mount point from the image."""
    for service in stack.compose.services.values():
        dockerfile = service_dockerfile(stack, service)
        if dockerfile is None:
            continue
        user = service.user or dockerfile.final.user_at(10**9)
        if user in ("root", "0", "0:0"):
            continue
        text = dockerfile.text_of_lineage()
        for mount in service.mounts:
            if mount.type == "volume" and not (mount.target in text and "chown" in text):
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", service.name),
                    f"service {service.name} runs as {user} but its image does not create "
                    f"{mount.target} for that user",
                    f"RUN mkdir -p {mount.target} && chown {user} {mount.target} in the Dockerfile",
                )
