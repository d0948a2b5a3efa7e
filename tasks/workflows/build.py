"""Building the stack's images through BuildKit, online or with the offline profile (its
stand-in base images seeded first), optionally sharing images and cache through a registry."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from rich.live import Live
from rich.markup import escape

from tasks.engine.bake import run_builds
from tasks.engine.client import docker_client, require_engine
from tasks.engine.registry import builder_driver, present_refs
from tasks.engine.registry import push as push_images
from tasks.engine.seed import seed_for_build
from tasks.errors import UsageError
from tasks.images.announce import Announcer
from tasks.images.plan import build_plan, detect_ca_bundle
from tasks.images.progress import BuildLog
from tasks.images.sharing import Sharing, cache_note, loaded, registry_setting, required_registry
from tasks.model.stack import load_stack
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT, console
from tasks.workflows.views import build_progress, build_summary, failed_builds


@dataclass(frozen=True)
class BuildRequest:
    """What to build and how: the images of `group` (None: all), or the one named."""

    group: str | None = None
    name: str = ""
    parallel: bool = False
    no_cache: bool = False
    pull: bool = False
    profile: str = ""
    ca_bundle: str = ""
    root: str = ""
    registry: str = ""
    push: bool = False
    builder: str = ""


def _listener(quiet: bool, live: Live | None, names: list[str]) -> Callable[[BuildLog], None]:
    """How progress is shown: nothing, lines in a log, or a live table on a terminal."""
    if quiet:
        return lambda log: None
    if live is None:
        return Announcer(lambda line: console.print(escape(line), soft_wrap=True))
    return lambda log: live.update(build_progress(log, names))


def build(request: BuildRequest, quiet: bool = False) -> Outcome:
    """Build the requested images (live progress on a terminal, lines in a log, nothing when
    `quiet`), then a summary: one failing image does not stop the others, and images a profile
    cannot build are listed, never skipped silently."""
    root = Path(request.root) if request.root else REPO_ROOT
    stack = load_stack(root, request.profile or None)
    try:
        plan = build_plan(stack, stack.profile).select(
            request.group, (request.name,) if request.name else ()
        )
        bundle = detect_ca_bundle(request.ca_bundle)
        prefix = (
            required_registry(stack.folder, request.registry, "--push")
            if request.push
            else registry_setting(stack.folder, request.registry)
        )
    except (ValueError, FileNotFoundError) as error:
        raise UsageError(str(error)) from None
    client = docker_client()
    started = time.monotonic()
    require_engine(client)
    driver = builder_driver(client, request.builder) if request.builder or prefix else "docker"
    if driver != "docker" and stack.profile == "offline":
        raise UsageError(
            f"--builder {request.builder}: a {driver} builder cannot see the offline profile's "
            "stand-in base images, which live in the engine's image store; build offline "
            "on the engine's own builder"
        )
    sharing = Sharing(prefix, request.push, driver) if prefix else None
    if sharing is not None and not request.no_cache:
        wanted = [ref for t in plan.targets for ref in sharing.cache_sources(t.tag)]
        found = present_refs(client, wanted, required=request.push)
        if found is None and not quiet:
            console.print(f"[yellow]note:[/] {prefix} does not answer: building without its cache")
        sharing = replace(sharing, present=found or frozenset())
    definition = loaded(plan.bake_definition(bundle), driver)
    if sharing is not None:
        definition = sharing.definition(definition)
    if stack.profile == "offline":
        # The stand-ins the images build on, and (building every image) the ones the stack's
        # services run as they are.
        needed = {base for target in plan.targets for base in target.bases}
        if not request.name:
            needed |= {s.image for s in stack.compose.services.values()
                       if s.build is None and s.image}  # fmt: skip
        seeded = seed_for_build(client, stack.folder, frozenset(needed))
        if not quiet:
            console.print(f"stand-in {seeded.root}: {seeded.root_state}")
    names = [t.name for t in plan.targets]
    drawn = console.is_terminal and not quiet
    live = Live(console=console, refresh_per_second=4) if drawn else None
    with live if live is not None else nullcontext():
        results = run_builds(
            client,
            plan,
            definition,
            parallel=request.parallel,
            no_cache=request.no_cache,
            pull=request.pull,
            listener=_listener(quiet, live, names),
            builder=request.builder,
        )
    ok = all(r.status != "failed" for r in results)
    pushed = sharing.pushes([r.tag for r in results if r.status != "failed"]) if sharing else []
    if pushed and not quiet:
        console.print(f"pushing {len(pushed)} image(s) to {prefix}")
    push_images(client, pushed)
    seconds = time.monotonic() - started
    data = {
        "profile": stack.profile or "online",
        "parallel": request.parallel,
        "seconds": round(seconds, 2),
        "ca_bundle": str(bundle) if bundle else None,
        "ok": ok,
        "images": [r.to_json() for r in results],
        "not_buildable": [u.__dict__ for u in plan.unavailable],
        "registry": prefix,
        "builder": {"name": request.builder or None, "driver": driver},
        "pushed": pushed,
    }
    views = [build_summary(results, plan.unavailable, seconds), *failed_builds(results)]
    views += [f"pushed {ref}" for ref in pushed]
    note = cache_note(sharing) if sharing else None
    views += [f"[cyan]note:[/] {note}"] if note else []
    return Outcome(data, views, ok=ok)
