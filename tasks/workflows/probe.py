"""Probing the stack's MCP servers the way their clients reach them: stdio servers by the
command devcontainer.json runs, URL servers from inside the dev container (they are on the
cluster network, as VS Code in the dev container sees them), every probe container stopped by
name when its session ends."""

from __future__ import annotations

from tasks.contract import table
from tasks.engine.client import docker_client
from tasks.engine.reaper import stop_named
from tasks.errors import UsageError
from tasks.model.stack import Stack, load_stack
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT
from tasks.servers.inside import remote_settings
from tasks.servers.page import probe_page
from tasks.servers.probe import Reach, run_probes
from tasks.servers.probetable import COLUMNS, probe_rows, shown
from tasks.servers.remote import tunnel
from tasks.servers.specs import ProbeSpec, Skipped, probe_specs
from tasks.workflows.profile import Profiled

TUNNEL = "socat"


def dev_container(stack: Stack) -> str:
    """The running dev container's id ('' when it is not running)."""
    status = Profiled(stack, None, ()).statuses().get(stack.dev_service)
    return status.container if status is not None and status.state == "running" else ""


def reach_for(container: str, user: str) -> Reach:
    """URL servers reached from inside `container` as `user` (a `socat` relay started with
    `docker exec`), containers stopped through the engine."""
    client = docker_client()
    return Reach(
        opener=tunnel(["docker", "exec", "-i", "-u", user, container, TUNNEL, "-"]),
        stop=lambda name: stop_named(client, name),
    )


def reachable(stack: Stack, specs: list[ProbeSpec]) -> tuple[list[ProbeSpec], list[Skipped], Reach]:
    """The specs this machine can probe now, those it cannot (URL servers while the dev
    container is down) and how to reach the rest."""
    container = dev_container(stack) if any(spec.url for spec in specs) else ""
    remote = remote_settings(stack)
    if container or not any(spec.url for spec in specs):
        return specs, [], reach_for(container, remote.user)
    reason = f"served on the cluster network: start the dev container ({stack.dev_service})"
    kept = [spec for spec in specs if not spec.url]
    skipped = [Skipped(spec.name, reason) for spec in specs if spec.url]
    return kept, skipped, reach_for("", remote.user)


def probe_servers(
    name: str = "", repeat: int = 5, concurrency: int = 1, timeout: int = 60
) -> Outcome:
    """Probe every server of devcontainer.json (or the one named): handshake, tools/list,
    `repeat` harmless calls in each of `concurrency` sessions; versions, tool counts, cold start
    and warm p50/p95. Fails on any failure and on a launch outside the allow-list."""
    if repeat < 1 or concurrency < 1 or repeat * concurrency > 1000:
        raise UsageError("--repeat and --concurrency must be >= 1 and their product at most 1000")
    stack = load_stack(REPO_ROOT)
    names = (name,) if name else ()
    if name and name not in stack.manifests:
        raise UsageError(
            f"no MCP server {name!r}; choose one of {', '.join(sorted(stack.manifests))}"
        )
    with probe_page() as url:
        specs, skipped = probe_specs(stack, names, stack.root, url, float(timeout))
        specs, unreachable, reach = reachable(stack, specs)
        skipped += unreachable
        results = run_probes(specs, repeat, concurrency, reach)
    failed = [r for r in results if not r.ok] + [s for s in skipped if name or s.refused]
    rows = probe_rows(results)
    views: list[object] = [table(f"MCP probe ({concurrency} x {repeat} requests)", COLUMNS, rows)]
    views += [f"[red]{shown(r.name)}:[/] {shown(r.error)}" for r in results if r.error]
    views += [
        f"[red]{shown(s.name)}:[/] {shown(s.reason)}"
        if s.refused
        else f"[yellow]not exercised:[/] {shown(s.name)}: {shown(s.reason)}"
        for s in skipped
    ]
    data = {
        "ok": not failed,
        "repeat": repeat,
        "concurrency": concurrency,
        "servers": [r.to_json() for r in results],
        "not_exercised": [s.__dict__ for s in skipped],
    }
    return Outcome(data, views, ok=not failed)
