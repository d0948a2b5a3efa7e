"""The engine's side of registry sharing: the builder's driver, pushing and pulling the stack's
images, and the digest a registry holds for a tag. Credentials are the engine's (`docker
login`)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

from tasks.engine.client import engine_errors
from tasks.errors import EngineError
from tasks.images.sharing import pinned_ref, registry_ref

_DIGEST = re.compile(r"^Digest:\s+(sha256:[0-9a-f]{64})\s*$", re.M)
# A tag the registry does not hold; a repository not created yet may answer "denied" or
# "unauthorized" (GHCR, Docker Hub) until the first push makes it.
_ABSENT = re.compile(r"not found|manifest unknown|name unknown|denied|unauthorized", re.I)
LOGIN_FIX = "start the registry, or check `docker login HOST` holds credentials that may push"


def builder_driver(client: DockerClient, builder: str) -> str:
    """The driver of buildx builder `builder` (the current one when empty)."""
    with engine_errors(
        f"inspecting the builder {builder or '(current)'}",
        "list the builders with `docker buildx ls`, or create one with `docker buildx create`",
    ):
        return str(client.buildx.inspect(builder or None).driver)


def push(client: DockerClient, refs: list[str]) -> None:
    """Push each registry reference from the engine's image store; the first refusal is an
    `EngineError` naming the reference."""
    for ref in refs:
        with engine_errors(f"pushing {ref}", LOGIN_FIX):
            client.image.push(ref, quiet=True)


def pull_as(client: DockerClient, ref: str, tag: str) -> None:
    """Pull `ref` and give it the local name `tag` the stack runs."""
    fix = (
        "the digest comes from .devcontainer/images.lock.json: push the images "
        "(`invoke build.all --push`) and run `invoke images.lock` again"
        if "@sha256:" in ref
        else f"push it first (`invoke build.all --push`), or {LOGIN_FIX}"
    )
    with engine_errors(f"pulling {ref}", fix):
        client.image.pull(ref, quiet=True)
        client.image.tag(ref, tag)


def remote_digest(client: DockerClient, ref: str) -> str | None:
    """The manifest digest the registry holds for `ref`; None when it has no such tag. A
    registry that does not answer is an `EngineError`."""
    command = [*client.buildx.docker_cmd, "buildx", "imagetools", "inspect", ref]
    try:
        output = str(run(command, capture_stderr=True))
    except DockerException as error:
        detail = str(error.stderr or "").strip()
        if _ABSENT.search(detail):
            return None
        last = detail.splitlines()[-1] if detail else str(error)
        raise EngineError(f"reading {ref} from its registry failed: {last}", LOGIN_FIX) from None
    found = _DIGEST.search(output)
    if found is None:
        raise EngineError(f"the registry gave no digest for {ref}", LOGIN_FIX)
    return found.group(1)


def remote_digests(client: DockerClient, refs: list[str]) -> dict[str, str | None]:
    """`remote_digest` of each reference, looked up side by side."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = pool.map(lambda ref: remote_digest(client, ref), refs)
        return dict(zip(refs, digests, strict=True))


def pinned_images(
    client: DockerClient, prefix: str, tags: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Each image (name -> local tag) with its pinned registry reference; an `EngineError`
    names every image the registry does not hold."""
    refs = {name: registry_ref(prefix, tag) for name, tag in tags.items()}
    digests = remote_digests(client, list(refs.values()))
    missing = [ref for ref in refs.values() if digests[ref] is None]
    if missing:
        raise EngineError(
            f"the registry has no {', '.join(missing)}",
            "push them with `invoke build.all --push` (with the same profile)",
        )
    return {
        name: (tag, pinned_ref(prefix, tag, str(digests[refs[name]]))) for name, tag in tags.items()
    }


def present_refs(client: DockerClient, refs: list[str], *, required: bool) -> frozenset[str] | None:
    """The references the registry holds. A registry that does not answer is an `EngineError`
    when `required` (a push would fail), else None."""
    try:
        digests = remote_digests(client, refs)
    except EngineError:
        if required:
            raise
        return None
    return frozenset(ref for ref, digest in digests.items() if digest)
