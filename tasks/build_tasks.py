"""`invoke build.*`: image builds through BuildKit, online or with the offline profile."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.context import Context

from tasks.contract import Failure, Outcome, UsageError, present, table, task

if TYPE_CHECKING:
    from python_on_whales import DockerClient
    from rich.table import Table

    from tasks.engine.bake import ImageResult
    from tasks.images.plan import BuildPlan
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
}


def _progress_table(log: BuildLog, names: list[str]) -> Table:
    rows = []
    for name in names:
        image = log.image(name) if name in log.images else None
        if image is None:
            rows.append((name, "queued", "", ""))
            continue
        steps = f"{image.finished_steps}/{image.total_steps}" if image.total_steps else ""
        rows.append((name, image.status, steps, f"{image.seconds:.0f}"))
    return table("building", ("image", "status", "steps", "seconds"), rows)


def _summary(results: list[ImageResult], plan: BuildPlan, seconds: float) -> Table:
    from rich.markup import escape

    rows = []
    for result in results:
        style = {"failed": "red", "cached": "cyan", "built": "green"}.get(result.status, "yellow")
        size = f"{result.size_bytes / 1e6:.0f} MB" if result.size_bytes else ""
        rows.append(
            (
                result.tag,
                f"[{style}]{result.status}[/]",
                f"{result.seconds:.1f}",
                f"{result.cached_steps}/{result.total_steps}",
                size,
            )
        )
    rows += [
        (item.name, "[yellow]not buildable here[/]", "", "", escape(item.reason))
        for item in plan.unavailable
    ]
    columns = ("image", "status", "seconds", "cached/total steps", "size")
    return table(f"build summary ({seconds:.1f} s)", columns, rows)


def _seed_offline(client: DockerClient, folder: Path, quiet: bool) -> None:
    """Make the offline profile's missing stand-ins before its images build on them."""
    from tasks.engine.seed import seed_stand_ins
    from tasks.report import console

    seeded = seed_stand_ins(client, folder)
    failed = [r for r in seeded.results if r.status == "failed"]
    if failed:
        names = ", ".join(f"{r.tag} ({r.error})" for r in failed)
        raise Failure(
            f"stand-in base images failed to build: {names}. Fix: `invoke build.seed` shows "
            "their logs"
        )
    if not quiet:
        console.print(f"stand-in {seeded.root}: {seeded.root_state}")


def build(
    group: str | None,
    names: tuple[str, ...],
    *,
    parallel: bool,
    no_cache: bool,
    pull: bool,
    profile: str,
    ca_bundle: str,
    json: bool,
    root: str = "",
) -> None:
    """Build the selected images and report; exit 1 when any image fails."""
    from rich.live import Live
    from rich.markup import escape

    from tasks.engine.bake import run_builds
    from tasks.engine.client import docker_client, engine_errors, require_engine
    from tasks.images.announce import Announcer
    from tasks.images.plan import build_plan, detect_ca_bundle
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, console

    stack = load_stack(Path(root) if root else REPO_ROOT, profile or None)
    profile = stack.profile or ""
    try:
        plan = build_plan(stack, stack.profile).select(group, names)
        bundle = detect_ca_bundle(ca_bundle)
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
    client = docker_client()
    started = time.monotonic()
    require_engine(client)
    if profile == "offline":
        with engine_errors("seeding the offline stand-ins"):
            _seed_offline(client, stack.folder, json)
    names_in_order = [t.name for t in plan.targets]
    definition = plan.bake_definition(bundle)
    drawn = console.is_terminal and not json
    live = Live(console=console, refresh_per_second=4) if drawn else None
    listener: Callable[[BuildLog], None]
    if json:
        listener = lambda log: None  # noqa: E731
    elif live is None:
        listener = Announcer(lambda line: console.print(escape(line), soft_wrap=True))
    else:
        listener = lambda log: live.update(_progress_table(log, names_in_order))  # noqa: E731
    with live if live is not None else nullcontext():
        results = run_builds(
            client,
            plan,
            definition,
            parallel=parallel,
            no_cache=no_cache,
            pull=pull,
            listener=listener,
        )
    seconds = time.monotonic() - started
    failed = [r for r in results if r.status == "failed"]
    views: list[object] = [_summary(results, plan, seconds)]
    for result in failed:
        views.append(f"[red]{result.tag} failed:[/] {escape(result.error or '')}")
        views += [f"  {escape(line)}" for line in result.log_tail[-12:]]
    data = {
        "profile": profile or "online",
        "parallel": parallel,
        "seconds": round(seconds, 2),
        "ca_bundle": str(bundle) if bundle else None,
        "ok": not failed,
        "images": [r.to_json() for r in results],
        "not_buildable": [u.__dict__ for u in plan.unavailable],
    }
    present(Outcome(data, views, ok=not failed), json)


def _group_task(group: str | None, name: str, doc: str) -> Any:
    """A `build.<name>` task: every image of `group` (None: all), or the one given with --name."""

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
    ) -> None:
        build(
            group,
            (name,) if name else (),
            parallel=parallel,
            no_cache=no_cache,
            pull=pull,
            profile=profile,
            ca_bundle=ca_bundle,
            json=json,
            root=root,
        )

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

    client = docker_client()
    require_engine(client)
    seeded = seed_stand_ins(client, REPO_ROOT / ".devcontainer", refresh=refresh)
    results = seeded.results
    views: list[object] = [
        f"{seeded.root}: {seeded.root_state}; already present: "
        f"{', '.join(seeded.present) or 'none'}"
    ]
    if results:
        views.append(_summary(results, seeded.plan, sum(r.seconds for r in results)))
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
    """Print the bake definition generated from the stack (what build.all --parallel runs)."""
    from tasks.images.plan import build_plan, detect_ca_bundle
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, emit_json

    stack = load_stack(REPO_ROOT, profile or None)
    emit_json(build_plan(stack, stack.profile).bake_definition(detect_ca_bundle()))
