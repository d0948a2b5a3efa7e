"""`invoke images.*`: the stack's images in a shared registry."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.errors import UsageError
from tasks.images.sharing import REGISTRY_HELP
from tasks.outcome import Outcome


@task(
    name="lock",
    help={
        "registry": REGISTRY_HELP,
        "profile": "image profile the pushed images were built with (default: .env's)",
        "json": "print JSON",
        "root": "repository whose images to lock; default: this repository",
    },
)
def images_lock(
    c: Context, registry: str = "", profile: str = "", json: bool = False, root: str = ""
) -> None:
    """Write .devcontainer/images.lock.json: the registry digest of every image the stack builds.

    Run it after `invoke build.all --push`, then `invoke mcp.config`: the client configs start
    each stdio MCP server from its pinned digest, and `invoke check` holds them to the lock.
    When the registry lacks an image, nothing is written and every missing image is named.
    """
    from tasks.engine.client import docker_client, require_engine
    from tasks.engine.registry import pinned_images
    from tasks.files import write_atomic
    from tasks.images.plan import build_plan
    from tasks.images.sharing import required_registry
    from tasks.model.imagelock import LOCK_FILE, lock_document
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT

    stack = load_stack(Path(root) if root else REPO_ROOT, profile or None)
    try:
        prefix = required_registry(stack.folder, registry, "images.lock")
    except ValueError as error:
        raise UsageError(str(error)) from None
    client = docker_client()
    require_engine(client)
    tags = {t.name: t.tag for t in build_plan(stack, stack.profile).targets}
    images = pinned_images(client, prefix, tags)
    path = stack.folder / LOCK_FILE
    write_atomic(path, lock_document(prefix, stack.profile or "online", images))
    rows = [(name, tag, ref.rpartition("@")[2][:19]) for name, (tag, ref) in images.items()]
    data = {"lock": str(path), "registry": prefix, "images": {n: r for n, (_, r) in images.items()}}
    views: list[object] = [table(f"pinned in {stack.rel(path)}", ("image", "tag", "digest"), rows)]
    views.append("next: `invoke mcp.config` pins the client configs to these digests")
    present(Outcome(data, views), json)
