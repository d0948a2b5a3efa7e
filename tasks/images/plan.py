"""The images of the stack, derived from the model, and the bake definition generated from them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.model.compose import Build
from tasks.model.stack import Stack

STAND_IN_PREFIX = "mcp-offline/"
GROUPS = ("mcp", "containers")
CA_SECRET_ID = "ca"
CA_VARIABLE = "BUILD_CA_BUNDLE"
_CA_VARIABLES = (
    CA_VARIABLE,
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "NODE_EXTRA_CA_CERTS",
)
DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
_SYSTEM_BUNDLES = (DEFAULT_CA_BUNDLE, "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


@dataclass(frozen=True)
class ImageTarget:
    """One image the stack builds."""

    name: str
    tag: str
    group: str
    build: Build
    bases: tuple[str, ...]
    source: Path

    def bake_target(self, ca_bundle: Path | None) -> dict[str, Any]:
        """This image as a `docker buildx bake` target."""
        target: dict[str, Any] = {
            "context": str(self.build.context),
            "dockerfile": str(self.build.dockerfile),
            "tags": [self.tag],
            "args": dict(self.build.args),
            "labels": {"dev.mcp-cluster.image": self.name},
        }
        if self.build.target:
            target["target"] = self.build.target
        if ca_bundle is not None:
            target["secret"] = [f"id={CA_SECRET_ID},src={ca_bundle}"]
        return target


@dataclass(frozen=True)
class Unavailable:
    """An image this profile cannot provide, and why (reported, never skipped silently)."""

    name: str
    image: str
    reason: str


@dataclass(frozen=True)
class BuildPlan:
    """What `build.*` builds for a profile, and what it cannot."""

    profile: str | None
    targets: tuple[ImageTarget, ...]
    unavailable: tuple[Unavailable, ...] = field(default=())

    def select(self, group: str | None = None, names: tuple[str, ...] = ()) -> BuildPlan:
        """The plan restricted to a group and/or names (unknown names raise ValueError)."""
        known = {t.name for t in self.targets} | {u.name for u in self.unavailable}
        missing = [n for n in names if n not in known]
        if missing:
            raise ValueError(
                f"no image named {missing[0]!r}; choose from {', '.join(sorted(known))}"
            )

        def wanted(name: str, target_group: str | None) -> bool:
            in_group = group is None or target_group in (None, group)
            return in_group and (not names or name in names)

        return BuildPlan(
            self.profile,
            tuple(t for t in self.targets if wanted(t.name, t.group)),
            tuple(u for u in self.unavailable if wanted(u.name, None)),
        )

    def bake_definition(self, ca_bundle: Path | None) -> dict[str, Any]:
        """The bake file (JSON form): one target per image, a group per image kind."""
        groups = {
            group: {"targets": [t.name for t in self.targets if t.group == group]}
            for group in GROUPS
        }
        return {
            "group": {"default": {"targets": [t.name for t in self.targets]}, **groups},
            "target": {t.name: t.bake_target(ca_bundle) for t in self.targets},
        }


def _group(stack: Stack, context: Path) -> str:
    return "mcp" if (stack.folder / "mcp") in context.parents else "containers"


def _bases(stack: Stack, build: Build) -> tuple[str, ...]:
    dockerfile = stack.built_dockerfile(build)
    if dockerfile is None:
        return ()
    names = {s.name for s in dockerfile.stages if s.name}
    bases = []
    for item in dockerfile.lineage():
        image = dockerfile.resolve(item.base, build.args)
        if image not in names:
            bases.append(image)
    copy_sources = [
        value
        for item in dockerfile.lineage()
        for ins in item.of("COPY")
        for name, value in ins.flags
        if name == "from" and value not in names
    ]
    return tuple(dict.fromkeys([*bases, *copy_sources]))


def build_plan(stack: Stack, profile: str | None) -> BuildPlan:
    """Every image the stack builds (compose services, then MCP manifests), and, for the offline
    profile, the images that need a registry."""
    targets: dict[str, ImageTarget] = {}
    for service in stack.compose.services.values():
        if service.build is not None:
            tag = service.image or f"mcp-{service.name}:latest"
            targets[service.name] = ImageTarget(
                service.name,
                tag,
                _group(stack, service.build.context),
                service.build,
                _bases(stack, service.build),
                stack.compose.path,
            )
    for manifest in stack.manifests.values():
        if manifest.build is None or manifest.transport not in ("stdio", "bridge"):
            continue
        name = manifest.name if manifest.name not in targets else f"mcp-{manifest.name}"
        targets[name] = ImageTarget(
            name,
            manifest.image,
            "mcp",
            manifest.build,
            _bases(stack, manifest.build),
            manifest.path,
        )
    built = {t.tag for t in targets.values()}
    unavailable: list[Unavailable] = []
    if profile == "offline":
        for target in list(targets.values()):
            registry = [b for b in target.bases if _needs_registry(b, built)]
            if registry:
                del targets[target.name]
                unavailable.append(
                    Unavailable(
                        target.name, registry[0], f"base image {registry[0]} is only in a registry"
                    )
                )
        for service in stack.compose.services.values():
            if service.build is None and service.image and _needs_registry(service.image, built):
                unavailable.append(
                    Unavailable(
                        service.name,
                        service.image,
                        f"{service.image} is only in a registry and has no stand-in",
                    )
                )
    return BuildPlan(profile, tuple(targets.values()), tuple(unavailable))


def _needs_registry(image: str, built: set[str]) -> bool:
    return not image.startswith(STAND_IN_PREFIX) and image not in built


def detect_ca_bundle(given: str = "") -> Path | None:
    """The CA bundle to hand builds as a secret: `given`, else the first of the usual
    variables, else the system bundle; None when there is none."""
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"--ca-bundle {given}: no such file")
        return path.resolve()
    for variable in _CA_VARIABLES:
        value = os.environ.get(variable)
        if value and Path(value).is_file():
            return Path(value).resolve()
    return next((Path(p) for p in _SYSTEM_BUNDLES if Path(p).is_file()), None)
