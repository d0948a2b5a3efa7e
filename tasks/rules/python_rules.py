"""Python interpreter settings: the GIL, optimisation and import-time profiling."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import (
    dockerfile_env,
    effective_env,
    image_views,
    is_free_threaded,
    service_dockerfile,
)

_GIL_FIX = (
    "set PYTHON_GIL=0 only in images whose Python is built with --disable-gil (a 3.14t "
    "interpreter); on a GIL build every Python process aborts at start with it"
)


@rule("PY001", "PYTHON_GIL=0 on a Python built with the GIL", Severity.ERROR)
def gil_on_gil_build(stack: Stack) -> Iterator[Hit]:
    """PYTHON_GIL=0 reaching an image whose interpreter was not built free-threaded."""
    for image in image_views(stack):
        setting = dockerfile_env(image).get("PYTHON_GIL")
        if setting and setting.value == "0" and not is_free_threaded(image):
            yield Hit(
                setting.path,
                setting.line,
                "PYTHON_GIL=0 in an image whose Python is not free-threaded",
                _GIL_FIX,
            )
    for service in stack.compose.services.values():
        built_from = service_dockerfile(stack, service)
        setting = effective_env(stack, service).get("PYTHON_GIL")
        if setting is None or setting.value != "0" or setting.path.name == "Dockerfile":
            continue
        if not is_free_threaded(built_from):
            yield Hit(
                setting.path,
                setting.line,
                f"PYTHON_GIL=0 reaches service {service.name}, whose Python is not free-threaded",
                _GIL_FIX,
            )


def _env_settings(stack: Stack, name: str) -> Iterator[tuple[str, Path, int | None, str]]:
    """Every place `name` is set: Dockerfile ENV, env files, compose environment, manifests."""
    for image in image_views(stack):
        setting = dockerfile_env(image).get(name)
        if setting:
            yield str(setting.value), setting.path, setting.line, stack.rel(image.path)
    for path, env_file in {stack.env.path: stack.env, **stack.env_files}.items():
        for entry in env_file.entries:
            if entry.key == name:
                yield entry.value, path, entry.line, env_file.path.name
    for service in stack.compose.services.values():
        if name in service.environment:
            yield (
                str(service.environment[name]),
                stack.compose.path,
                stack.compose.line("services", service.name, "environment", name),
                f"service {service.name}",
            )
    for manifest in stack.manifests.values():
        if name in manifest.env:
            yield (
                manifest.env[name],
                manifest.path,
                manifest.doc.line_of("env", name),
                manifest.name,
            )


@rule("PY002", "PYTHONOPTIMIZE in a development image", Severity.ERROR)
def python_optimize(stack: Stack) -> Iterator[Hit]:
    """PYTHONOPTIMIZE strips asserts (and, at 2, docstrings) from every process."""
    for value, path, line, where in _env_settings(stack, "PYTHONOPTIMIZE"):
        if value not in ("", "0"):
            yield Hit(
                path,
                line,
                f"PYTHONOPTIMIZE={value} in {where}: asserts vanish and tools reading "
                "__doc__ break",
                "remove PYTHONOPTIMIZE from development images",
            )


@rule("PY003", "PYTHONPROFILEIMPORTTIME as a default", Severity.ERROR)
def profile_import_time(stack: Stack) -> Iterator[Hit]:
    """Import-time profiling writes to stderr from every Python process."""
    for value, path, line, where in _env_settings(stack, "PYTHONPROFILEIMPORTTIME"):
        if value not in ("", "0"):
            yield Hit(
                path,
                line,
                f"PYTHONPROFILEIMPORTTIME={value} in {where} prints import timings to "
                "stderr from every Python process",
                "remove it; use `python -X importtime` when profiling",
            )


_ASSERT_CHECK = re.compile(r"python[0-9.t]*\s+(-\w+\s+)*-c\s+.*\bassert\b")


@rule("PY004", "build check written as an assert", Severity.WARNING)
def assert_checks(stack: Stack) -> Iterator[Hit]:
    """A RUN check that `python -O` or PYTHONOPTIMIZE silently turns into a no-op."""
    for dockerfile in stack.dockerfiles.values():
        for ins in dockerfile.instructions():
            if ins.keyword == "RUN" and _ASSERT_CHECK.search(ins.value):
                yield Hit(
                    dockerfile.path,
                    ins.line,
                    "build check uses assert, which optimisation strips",
                    'exit explicitly: python3 -c "import sys; sys.exit(0 if ok else 1)"',
                )
