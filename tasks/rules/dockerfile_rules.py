"""Dockerfiles: cache mounts, installs as root, base image tags, frontends, COPY sources and
build targets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tasks.model.buildcontext import EXCLUDED, BuildContext
from tasks.model.interpolate import Interpolator
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import (
    image_family,
    image_tag,
    image_views,
    service_dockerfile,
    service_images,
)

_INSTALL = re.compile(
    r"\b(apt-get\s+(-\S+\s+)*install|apt\s+install|pip3?\s+install|uv\s+pip\s+install|"
    r"uv\s+sync|npm\s+(install|ci|i)\b|yarn\s+(add|install)|apk\s+add)"
)


@rule("DF001", "package install without a BuildKit cache mount", Severity.ERROR)
def cache_mounts(stack: Stack) -> Iterator[Hit]:
    """Every RUN that installs packages keeps its downloads in `--mount=type=cache`."""
    for dockerfile in stack.dockerfiles.values():
        for ins in dockerfile.instructions():
            if ins.keyword != "RUN" or not _INSTALL.search(ins.value):
                continue
            if not any(m.get("type") == "cache" for m in ins.mounts()):
                yield Hit(
                    dockerfile.path,
                    ins.line,
                    "installs packages without a cache mount",
                    "add --mount=type=cache,target=<the tool's cache dir> to this RUN",
                )


_PIP_OUTSIDE_VENV = re.compile(r"(?<![/\w.-])pip3?\s+install")
_NPM_GLOBAL = re.compile(r"\bnpm\s+(install|i)\s+(.*\s)?(-g|--global)\b")


@rule("DF002", "installs that fail or land off PATH as a non-root user", Severity.ERROR)
def non_root_installs(stack: Stack) -> Iterator[Hit]:
    """After `USER vscode`, pip installs into ~/.local, npm -g hits EACCES, and sudoers is moot
    without sudo.
    """
    for dockerfile in image_views(stack):
        text = "\n".join(ins.value for ins in dockerfile.instructions())
        for stage in dockerfile.stages:
            for ins in stage.of("RUN"):
                if stage.user_at(ins.line) in ("root", "0"):
                    if "/etc/sudoers" in ins.value and not re.search(r"\bsudo\b(?!ers)", text):
                        yield Hit(
                            dockerfile.path,
                            ins.line,
                            "writes /etc/sudoers but sudo is never installed",
                            "install sudo and write /etc/sudoers.d/<user>, or drop it",
                        )
                    continue
                if _NPM_GLOBAL.search(ins.value):
                    yield Hit(
                        dockerfile.path,
                        ins.line,
                        "npm install -g as a non-root user fails with EACCES",
                        "install global packages before USER",
                    )
                if _PIP_OUTSIDE_VENV.search(ins.value):
                    yield Hit(
                        dockerfile.path,
                        ins.line,
                        "pip install as a non-root user lands in ~/.local, off PATH",
                        "install into a venv before USER, or into a user-owned venv on PATH",
                    )


_CUDA_TAG = re.compile(r"-(ubuntu|ubi|rockylinux|centos|debian)\d")
_PRERELEASE = re.compile(r"^\d+\.\d+\.\d+(a|b|rc)\d+")


def _tag_problem(ref: str) -> tuple[str, str, Severity] | None:
    family, tag = image_family(ref), image_tag(ref)
    if "$" in ref:
        return None
    if family == "cuda" and not _CUDA_TAG.search(tag):
        return (
            f"{ref}: nvidia/cuda tags carry an OS suffix",
            "use e.g. 12.9.0-base-ubuntu24.04",
            Severity.ERROR,
        )
    if family == "python" and re.match(r"^\d+\.\d+(\.\d+)?t\b", tag):
        return (
            f"{ref}: there are no free-threaded python images",
            "build CPython with --disable-gil or install 3.14t with uv",
            Severity.ERROR,
        )
    if _PRERELEASE.match(tag):
        return (f"{ref}: a pre-release tag", "use the final release line", Severity.WARNING)
    return None


def _references(stack: Stack) -> Iterator[tuple[str, Path, int | None]]:
    for dockerfile in stack.dockerfiles.values():
        for image, line in dockerfile.external_bases():
            yield image, dockerfile.path, line
    for service in stack.compose.services.values():
        if service.build is None and service.image:
            yield (
                service.image,
                stack.compose.path,
                stack.compose.line("services", service.name, "image"),
            )
        elif service.build is not None:
            for image in service_images(stack, service):
                yield (
                    image,
                    stack.compose.path,
                    stack.compose.line("services", service.name, "build"),
                )
    for manifest in stack.manifests.values():
        if manifest.build is None:
            yield manifest.image, manifest.path, manifest.doc.line_of("image")


@rule("DF003", "image tag that cannot exist", Severity.ERROR)
def image_tags(stack: Stack) -> Iterator[Hit]:
    """Tags are checked against each repository's naming scheme."""
    for ref, path, line in _references(stack):
        problem = _tag_problem(ref)
        if problem:
            yield Hit(path, line, problem[0], problem[1], problem[2])


@rule("DF004", "frontend or entrypoint that breaks the build or the image", Severity.WARNING)
def frontends(stack: Stack) -> Iterator[Hit]:
    """`# syntax=` pulls a frontend image (fails offline); `ENTRYPOINT ["buildkitd"]` skips the
    BuildKit image's own entrypoint wrapper.
    """
    for dockerfile in stack.dockerfiles.values():
        if "syntax" in dockerfile.directives:
            yield Hit(
                dockerfile.path,
                1,
                "# syntax= needs the frontend image from a registry",
                "drop the directive; the engine's built-in frontend is used",
            )
    for image in image_views(stack):
        bases = {image_family(ref) for ref, _ in image.external_bases()}
        for ins in image.final.of("ENTRYPOINT"):
            form = ins.exec_form() or ins.value.split()
            if "buildkit" in bases and form[:1] == ["buildkitd"]:
                yield Hit(
                    image.path,
                    ins.line,
                    "ENTRYPOINT buildkitd replaces the image's entrypoint",
                    "keep the image's ENTRYPOINT; pass flags with CMD/command",
                )


@rule("DF005", "COPY source that the build context does not send", Severity.ERROR)
def copy_sources(stack: Stack) -> Iterator[Hit]:
    """A COPY/ADD source must exist in the service's build context and not be excluded by the
    context's .dockerignore; otherwise every `docker compose build` fails at that line."""
    seen: set[tuple[Path, Path, int, str]] = set()
    for service in stack.compose.services.values():
        dockerfile = service_dockerfile(stack, service)
        if dockerfile is None or service.build is None:
            continue
        context = BuildContext(service.build.context, dockerfile.path)
        for ins in dockerfile.instructions():
            for source in ins.context_sources():
                if "://" in source or source.startswith("$"):
                    continue
                key = (service.build.context, dockerfile.path, ins.line, source)
                reason = None if key in seen else context.missing(source)
                seen.add(key)
                if reason:
                    yield Hit(
                        dockerfile.path,
                        ins.line,
                        f"{ins.keyword} source {source} {reason} in the build context "
                        f"{stack.rel(service.build.context)}",
                        f"add a `!{source}` line to that context's .dockerignore"
                        if reason == EXCLUDED
                        else "fix the path (it is relative to the build context)",
                    )


@rule("DF006", "build target that is not a stage of its Dockerfile", Severity.ERROR)
def build_targets(stack: Stack) -> Iterator[Hit]:
    """A compose `build.target` must name a stage (`FROM ... AS name`) of the Dockerfile, or
    the build stops before it starts."""
    for service in stack.compose.services.values():
        build = service.build
        dockerfile = stack.dockerfile_for(build.dockerfile) if build else None
        if build is None or dockerfile is None or dockerfile.for_target(build.target):
            continue
        stages = sorted(s.name for s in dockerfile.stages if s.name)
        yield Hit(
            stack.compose.path,
            stack.compose.line("services", service.name, "build", "target"),
            f"service {service.name}: build target {build.target!r} is not a stage of "
            f"{stack.rel(dockerfile.path)}",
            f"name one of its stages: {', '.join(stages)}"
            if stages
            else "remove build.target, or name a stage in the Dockerfile (`FROM ... AS NAME`)",
        )


@rule("DF007", "FROM uses a variable no ARG declares before the first FROM", Severity.ERROR)
def from_arguments(stack: Stack) -> Iterator[Hit]:
    """A `FROM` line sees only the ARGs declared before the first FROM (build args included:
    an undeclared one is not passed), so `FROM ${X}` without `ARG X` is blank and the engine
    refuses it ("base name should not be blank"); a default (`${X:-image}`) is fine."""
    for dockerfile in stack.dockerfiles.values():
        for stage in dockerfile.stages:
            resolver = Interpolator(dockerfile.global_args)
            resolver.resolve(stage.base)
            for name in resolver.undefined:
                yield Hit(
                    dockerfile.path,
                    stage.line,
                    f"FROM {stage.base}: no ARG declares {name} before the first FROM, so "
                    "the base is blank and the build fails",
                    f"declare `ARG {name}=<default image>` at the top of the file, before "
                    "the first FROM",
                    key=name,
                )
