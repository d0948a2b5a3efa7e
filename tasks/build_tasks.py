"""`invoke build.*`: image builds through BuildKit, online or with the offline profile."""

from __future__ import annotations

from typing import Any

from invoke.context import Context

from tasks.contract import present, table, task
from tasks.images.sharing import REGISTRY_HELP
from tasks.outcome import Outcome

OPTIONS_HELP = {
    "parallel": "build every image in one `docker buildx bake` (default: one at a time)",
    "no_cache": "ignore the build cache",
    "pull": "pull newer base images (online only)",
    "profile": "image profile: `offline` uses local stand-ins seeded from Debian",
    "ca_bundle": "CA bundle for TLS-inspecting proxies, passed as a BuildKit secret "
    "(default: detected from SSL_CERT_FILE etc. or the system bundle)",
    "json": "print the summary as JSON",
    "root": "repository whose stack to build; default: this repository",
    "registry": f"{REGISTRY_HELP}; none: images and cache stay local",
    "push": "push every built image, with its build cache, to the registry",
    "builder": "buildx builder to build on (default: the current one)",
}


def _group_task(group: str | None, name: str, doc: str) -> Any:
    """A `build.<name>` task: every image of `group` (None: all), or the one given with --name;
    live progress, then a summary. Exit 1 when any image fails."""

    def run(
        c: Context,
        name: str = "",
        parallel: bool = False,
        no_cache: bool = False,
        pull: bool = False,
        profile: str = "",
        ca_bundle: str = "",
        json: bool = False,
        root: str = "",
        registry: str = "",
        push: bool = False,
        builder: str = "",
    ) -> None:
        from tasks.workflows.build import BuildRequest, build

        request = BuildRequest(
            group, name, parallel, no_cache, pull, profile, ca_bundle, root, registry, push, builder
        )
        present(build(request, quiet=json), json)

    run.__doc__ = doc
    run.__name__ = f"build_{name}"
    kind = f"{group} " if group else ""
    return task(name=name, help={"name": f"one {kind}image (default: all)", **OPTIONS_HELP})(run)


build_all = _group_task(
    None,
    "all",
    """Build every image of the stack, with live progress and a summary table.

    One failing image does not stop the others; its last log lines are shown and the exit
    code is 1. Images a profile cannot build are listed, never skipped silently.
    """,
)
build_mcp = _group_task("mcp", "mcp", "Build the MCP server images (or one of them).")
build_containers = _group_task(
    "containers", "containers", "Build the infrastructure container images (or one of them)."
)


@task(name="seed", help={"refresh": "rebuild stand-ins that already exist", "json": "print JSON"})
def build_seed(c: Context, refresh: bool = False, json: bool = False) -> None:
    """Seed the offline profile's stand-in base images from Debian's archive.

    Stand-ins are labelled dev.mcp-cluster.stand-in=true; an image of the same tag that lacks
    the label (pulled from a registry) is never overwritten.
    """
    from tasks.engine.client import docker_client, require_engine
    from tasks.engine.seed import seed_stand_ins
    from tasks.report import REPO_ROOT
    from tasks.workflows.views import build_summary

    client = docker_client()
    require_engine(client)
    seeded = seed_stand_ins(client, REPO_ROOT / ".devcontainer", refresh=refresh)
    results = seeded.results
    views: list[object] = [
        f"{seeded.root}: {seeded.root_state}; already present: "
        f"{', '.join(seeded.present) or 'none'}"
    ]
    if results:
        views.append(build_summary(results, (), sum(r.seconds for r in results)))
    data = {
        "root": {seeded.root: seeded.root_state},
        "present": seeded.present,
        "images": [r.to_json() for r in results],
    }
    present(Outcome(data, views, ok=not any(r.status == "failed" for r in results)), json)


@task(name="cache", help={"prune": "remove all build cache", "json": "print JSON"})
def build_cache(c: Context, prune: bool = False, json: bool = False) -> None:
    """Show BuildKit's build-cache use (`docker buildx du`), and prune it on request."""
    from tasks.engine.cache import cache_usage, prune_cache
    from tasks.engine.client import docker_client, require_engine

    client = docker_client()
    require_engine(client)
    before = cache_usage(client)
    if prune:
        prune_cache(client)
    after = cache_usage(client) if prune else before
    usages = [("before", before), ("after", after)] if prune else [("now", before)]
    rows = [
        (
            label,
            str(usage.records),
            f"{usage.bytes / 1e6:.1f} MB",
            f"{usage.reclaimable_bytes / 1e6:.1f} MB",
        )
        for label, usage in usages
    ]
    data = {"before": before.__dict__, "after": after.__dict__, "pruned": prune}
    view = table("build cache", ("", "records", "size", "reclaimable"), rows)
    present(Outcome(data, [view]), json)


@task(name="bake-file", help={"profile": "image profile, e.g. offline"})
def build_bake_file(c: Context, profile: str = "") -> None:
    """Print the bake definition generated from the stack (what build.all --parallel runs
    without a registry)."""
    from tasks.images.plan import build_plan, detect_ca_bundle
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, emit_json

    stack = load_stack(REPO_ROOT, profile or None)
    emit_json(build_plan(stack, stack.profile).bake_definition(detect_ca_bundle()))
