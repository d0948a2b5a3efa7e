"""Runs image builds through `docker buildx bake`: all at once, or one image at a time."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.components.buildx.cli_wrapper import stream_buildx_logs
from python_on_whales.exceptions import DockerException

from tasks.engine.client import engine_errors, inspect_all
from tasks.errors import EngineError
from tasks.images.plan import BuildPlan
from tasks.images.progress import BuildLog, ImageProgress

Listener = Callable[[BuildLog], None]


@dataclass(frozen=True)
class ImageResult:
    """The outcome for one image."""

    name: str
    tag: str
    status: str
    seconds: float
    cached_steps: int
    total_steps: int
    size_bytes: int | None
    error: str | None
    log_tail: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain dict for `--json`."""
        return {**self.__dict__, "log_tail": list(self.log_tail)}


def bake_once(
    client: DockerClient,
    bake_file: Path,
    targets: list[str],
    log: BuildLog,
    listener: Listener,
    *,
    no_cache: bool = False,
    pull: bool = False,
    builder: str = "",
) -> bool:
    """One `docker buildx bake` of `targets` (on `builder`, else the current one), streaming
    progress into `log`; False on failure."""
    log.new_round(tuple(targets))
    command = [
        *client.buildx.docker_cmd,
        "buildx",
        "bake",
        *(["--builder", builder] if builder else []),
        "--progress",
        "plain",
        "--file",
        str(bake_file),
        *(f"--allow=fs.read={path}" for path in read_paths(bake_file)),
        *(["--no-cache"] if no_cache else []),
        *(["--pull"] if pull else []),
        *targets,
    ]
    try:
        for line in stream_buildx_logs(command):
            log.feed(line)
            listener(log)
    except DockerException as error:
        lines = str(error.stderr or "").strip().splitlines()
        log.failure = log.failure or next(
            (x for x in reversed(lines) if x.startswith("ERROR")), "docker buildx bake failed"
        )
        listener(log)
        return False
    log.complete()
    listener(log)
    return True


def read_paths(bake_file: Path) -> list[str]:
    """What the bake reads from the filesystem: each target's context and Dockerfile, and each
    secret file. Bake may read these (`--allow=fs.read=PATH`, one per path) and nothing else."""
    definition = json.loads(bake_file.read_text(encoding="utf-8"))
    paths: set[str] = set()
    for target in definition.get("target", {}).values():
        paths.update(str(target[key]) for key in ("context", "dockerfile") if key in target)
        paths.update(
            part.removeprefix("src=")
            for secret in target.get("secret", [])
            for part in secret.split(",")
            if part.startswith("src=")
        )
    return sorted(paths)


def run_builds(
    client: DockerClient,
    plan: BuildPlan,
    definition: dict[str, Any],
    *,
    parallel: bool,
    listener: Listener,
    no_cache: bool = False,
    pull: bool = False,
    log: BuildLog | None = None,
    builder: str = "",
) -> list[ImageResult]:
    """Build every target of `plan`; a failing image never stops the others.

    In parallel mode one bake builds everything; BuildKit cancels the rest when one image
    fails, so the failed image is set aside and the remaining ones are baked again (finished
    work is cached). Sequentially, each image gets its own bake.
    """
    log = log or BuildLog()
    names = [t.name for t in plan.targets]
    for name in names:
        log.image(name)
    with tempfile.TemporaryDirectory(prefix="mcp-bake-") as folder:
        bake_file = Path(folder) / "docker-bake.json"
        bake_file.write_text(json.dumps(definition, indent=2), encoding="utf-8")
        bake = partial(bake_once, client, bake_file, no_cache=no_cache, pull=pull, builder=builder)
        with engine_errors("docker buildx bake"):
            if parallel:
                remaining = list(names)
                while remaining and not bake(remaining, log, listener):
                    failed = [n for n in remaining if log.image(n).failed]
                    if not failed:
                        _blame_unknown(log, remaining)
                        break
                    remaining = [n for n in remaining if n not in failed]
            else:
                for name in names:
                    if not bake([name], log, listener) and not log.image(name).failed:
                        log.image(name).error = log.failure or "bake failed before building"
    built = [t.tag for t in plan.targets if not log.image(t.name).failed]
    sizes = _sizes(client, built)
    return [_result(log.image(t.name), t.tag, sizes) for t in plan.targets]


def _blame_unknown(log: BuildLog, remaining: list[str]) -> None:
    for name in remaining:
        image = log.image(name)
        if image.status == "building":
            image.error = log.failure or "bake stopped before this image finished"


def _sizes(client: DockerClient, tags: list[str]) -> dict[str, int]:
    """Image sizes in one inspect call (a missing image is left out; none when the engine
    cannot say, so a finished build still reports its results)."""
    try:
        images = inspect_all(client, "image", tags)
    except EngineError:
        return {}
    return {
        tag: int(image.get("Size") or 0) for image in images for tag in image.get("RepoTags") or []
    }


def _result(image: ImageProgress, tag: str, sizes: dict[str, int]) -> ImageResult:
    size = sizes.get(tag) or sizes.get(f"{tag}:latest")
    if not image.failed and size is None:
        image.error = f"bake reported success but {tag} is not in the image store"
    return ImageResult(
        image.name,
        tag,
        image.status,
        round(image.seconds, 2),
        image.cached_steps,
        image.total_steps,
        size,
        image.error,
        tuple(image.log_tail),
    )
