"""`invoke build.*`: image builds through BuildKit, online or with the offline profile."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.context import Context

from tasks.contract import Outcome, present, table, task
from tasks.errors import UsageError
from tasks.images.registry import REGISTRY_HELP

if TYPE_CHECKING:
    from tasks.images.progress import BuildLog

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
        from dataclasses import replace

        from rich.live import Live
        from rich.markup import escape

        from tasks.engine.bake import run_builds
        from tasks.engine.client import docker_client, require_engine
        from tasks.engine.registry import builder_driver, present_refs
        from tasks.engine.registry import push as push_images
        from tasks.engine.seed import seed_for_build
        from tasks.images.announce import Announcer
        from tasks.images.plan import build_plan, detect_ca_bundle
        from tasks.images.registry import (
            Sharing,
            cache_note,
            loaded,
            registry_setting,
            required_registry,
        )
        from tasks.images.views import build_progress, build_summary, failed_builds
        from tasks.model.stack import load_stack
        from tasks.report import REPO_ROOT, console

        stack = load_stack(Path(root) if root else REPO_ROOT, profile or None)
        try:
            plan = build_plan(stack, stack.profile).select(group, (name,) if name else ())
            bundle = detect_ca_bundle(ca_bundle)
            prefix = (
                required_registry(stack.folder, registry, "--push")
                if push
                else registry_setting(stack.folder, registry)
            )
        except (ValueError, FileNotFoundError) as error:
            raise UsageError(str(error)) from None
        client = docker_client()
        started = time.monotonic()
        require_engine(client)
        driver = builder_driver(client, builder) if builder or prefix else "docker"
        if driver != "docker" and stack.profile == "offline":
            raise UsageError(
                f"--builder {builder}: a {driver} builder cannot see the offline profile's "
                "stand-in base images, which live in the engine's image store; build offline "
                "on the engine's own builder"
            )
        sharing = Sharing(prefix, push, driver) if prefix else None
        if sharing is not None and not no_cache:
            wanted = [ref for t in plan.targets for ref in sharing.cache_sources(t.tag)]
            found = present_refs(client, wanted, required=push)
            if found is None and not json:
                console.print(
                    f"[yellow]note:[/] {prefix} does not answer: building without its cache"
                )
            sharing = replace(sharing, present=found or frozenset())
        definition = loaded(plan.bake_definition(bundle), driver)
        if sharing is not None:
            definition = sharing.definition(definition)
        if stack.profile == "offline":
            # The stand-ins the images build on, and (building every image) the ones the
            # stack's services run as they are.
            needed = {base for target in plan.targets for base in target.bases}
            if not name:
                needed |= {s.image for s in stack.compose.services.values()
                           if s.build is None and s.image}  # fmt: skip
            seeded = seed_for_build(client, stack.folder, frozenset(needed))
            if not json:
                console.print(f"stand-in {seeded.root}: {seeded.root_state}")
        names = [t.name for t in plan.targets]
        drawn = console.is_terminal and not json
        live = Live(console=console, refresh_per_second=4) if drawn else None
        listener: Callable[[BuildLog], None]
        if json:
            listener = lambda log: None  # noqa: E731
        elif live is None:
            listener = Announcer(lambda line: console.print(escape(line), soft_wrap=True))
        else:
            listener = lambda log: live.update(build_progress(log, names))  # noqa: E731
        with live if live is not None else nullcontext():
            results = run_builds(
                client,
                plan,
                definition,
                parallel=parallel,
                no_cache=no_cache,
                pull=pull,
                listener=listener,
                builder=builder,
            )
        ok = all(r.status != "failed" for r in results)
        pushed = sharing.pushes([r.tag for r in results if r.status != "failed"]) if sharing else []
        if pushed and not json:
            console.print(f"pushing {len(pushed)} image(s) to {prefix}")
        push_images(client, pushed)
        seconds = time.monotonic() - started
        data = {
            "profile": stack.profile or "online",
            "parallel": parallel,
            "seconds": round(seconds, 2),
            "ca_bundle": str(bundle) if bundle else None,
            "ok": ok,
            "images": [r.to_json() for r in results],
            "not_buildable": [u.__dict__ for u in plan.unavailable],
            "registry": prefix,
            "builder": {"name": builder or None, "driver": driver},
            "pushed": pushed,
        }
        views = [build_summary(results, plan.unavailable, seconds), *failed_builds(results)]
        views += [f"pushed {ref}" for ref in pushed]
        note = cache_note(sharing) if sharing else None
        views += [f"[cyan]note:[/] {note}"] if note else []
        present(Outcome(data, views, ok=ok), json)

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
    from tasks.images.views import build_summary
    from tasks.report import REPO_ROOT

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
