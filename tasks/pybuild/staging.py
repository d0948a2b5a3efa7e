"""Puts the verified CPython source tarball into each free-threaded image's build context."""

from __future__ import annotations

import shutil
from pathlib import Path

from tasks.images.plan import BuildPlan
from tasks.pybuild.builder import BuildFailed, Say, cache_root, fetch, sha256_of
from tasks.pybuild.sources import KNOWN

TARBALL_ARG = "PYTHON_TARBALL"
SHA_ARG = "PYTHON_SHA256"
CONTEXT_DIR = ".cpython"


def stage_tarballs(plan: BuildPlan, say: Say) -> list[Path]:
    """Copy each target's PYTHON_TARBALL (checksum-verified) into `<context>/.cpython/`."""
    staged = []
    for target in plan.targets:
        name = target.build.args.get(TARBALL_ARG)
        if not name:
            continue
        sha = target.build.args.get(SHA_ARG, "")
        if not sha:
            raise BuildFailed(
                f"{target.name}: {SHA_ARG} is empty for {name}. Fix: set PYTHON_TARBALL and "
                "PYTHON_SHA256 (a CPython source tarball and its SHA-256) in "
                ".devcontainer/devcontainer.env, or build with --profile offline"
            )
        destination = target.build.context / CONTEXT_DIR / name
        if destination.is_file() and sha256_of(destination) == sha:
            staged.append(destination)
            continue
        source = next((s for s in KNOWN.values() if s.filename == name and s.sha256 == sha), None)
        cached = cache_root() / "downloads" / name
        if source is not None:
            path = fetch(source, cache_root(), say)
        elif cached.is_file() and sha256_of(cached) == sha:
            path = cached
        else:
            raise BuildFailed(
                f"{target.name}: no verified source for {name}. Fix: put the tarball in "
                f"{destination.parent} (its SHA-256 must be {sha})"
            )
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        staged.append(destination)
    return staged
