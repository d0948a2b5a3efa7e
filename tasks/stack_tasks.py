"""`invoke stack.*`: bring the compose stack up tier by tier, inspect it, take it down."""

from __future__ import annotations

import time

from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import Outcome, present, task
from tasks.helpflag import show_help_if_asked
from tasks.images.registry import REGISTRY_HELP
from tasks.images.tiers import MAX_TIER


@task(
    name="up",
    help={
        "tier": f"start tiers 1..N only (1 databases, 2 MCP DB services, 3 tools, {MAX_TIER} "
        "devcontainer)",
        "profile": "`offline` (local stand-ins) and/or compose profiles, comma separated: "
        "gpu, buildkit, runner, grafana",
        "timeout": "seconds to wait for every service to be healthy",
        "json": "print JSON",
        "root": "repository whose stack to start; default: this repository",
        "pull": "pull the images from the registry instead of building them (pushed with "
        "`invoke build.all --push`)",
        "registry": f"for --pull: {REGISTRY_HELP}",
    },
)
def stack_up(
    c: Context,
    tier: int = MAX_TIER,
    profile: str = "",
    timeout: int = 180,
    json: bool = False,
    root: str = "",
    pull: bool = False,
    registry: str = "",
) -> None:
    """Start the stack tier by tier and wait until every service is healthy.

    Prints service, state, health, IP, ports and seconds to healthy; on failure names each
    unhealthy service with its last log lines and exits 1. With --pull, the images the stack
    builds (its services' and the MCP servers') come from the registry under their local names.
    """
    from rich.live import Live
    from rich.markup import escape

    from tasks.engine.stack import compose_client, health_output, last_logs, up_and_wait
    from tasks.images.views import services_table
    from tasks.profiles import (
        load_profiled,
        network_name,
        pull_images,
        require_generated,
        selection_for,
    )
    from tasks.report import console
    from tasks.stacksecrets import require_secrets

    stack, image_profile, compose_profiles = load_profiled(profile, root)
    selection = selection_for(stack, image_profile, compose_profiles, tier)
    require_secrets(stack, list(selection.services))
    require_generated(stack, list(selection.services))
    client = compose_client(stack, image_profile, compose_profiles)
    pulled = pull_images(client, stack, selection, registry) if pull else []
    if pulled and not json:
        console.print(f"pulled {len(pulled)} image(s) from the registry")
    network = network_name(stack)
    started = time.monotonic()
    # No separate engine check: the first poll names a missing engine (EngineError, exit 1).
    if json or not console.is_terminal:
        result, up_error = up_and_wait(
            client, list(selection.services), network, timeout, lambda rows: None
        )
    else:
        with Live(console=console, refresh_per_second=2) as live:
            result, up_error = up_and_wait(
                client,
                list(selection.services),
                network,
                timeout,
                lambda rows: live.update(services_table(stack, rows, "starting")),
            )
    seconds = time.monotonic() - started
    bad = [s for s in result.values() if not s.ready]
    logs = {s.service: last_logs(client, s.service) for s in bad}
    checks = {s.service: health_output(client, s.container) for s in bad if s.container}
    views: list[object] = [services_table(stack, result, f"stack ({seconds:.1f} s)")]
    views += [
        f"[yellow]not exercised:[/] {name}: {escape(reason)}"
        for name, reason in selection.not_exercised.items()
    ]
    if up_error:
        views.append(f"[red]{escape(up_error)}[/]")
    for status in bad:
        check = checks.get(status.service, "")
        if check:
            views.append(f"[red]{status.service} is {status.health}:[/] {escape(check)}")
        views.append(f"[red]{status.service} is {status.health or status.state}[/]; last logs:")
        views += [f"  {escape(line)}" for line in logs[status.service]]
    data = {
        "ok": not bad and not up_error,
        "error": up_error,
        "seconds": round(seconds, 2),
        "services": [s.__dict__ for s in result.values()],
        "not_exercised": selection.not_exercised,
        "pulled": pulled,
        "logs": logs,
        "healthchecks": checks,
    }
    present(Outcome(data, views, ok=bool(data["ok"])), json)


@task(
    name="down",
    help={
        "volumes": "also delete the named volumes (asks first)",
        "yes": "do not ask",
        "profile": "as for stack.up",
        "root": "repository whose stack to stop; default: this repository",
    },
)
def stack_down(
    c: Context, volumes: bool = False, yes: bool = False, profile: str = "", root: str = ""
) -> None:
    """Stop and remove the stack's containers and network; `--volumes` deletes data too."""
    from tasks.confirm import confirmed
    from tasks.engine.stack import compose_client, down
    from tasks.errors import EXIT_FINDINGS
    from tasks.profiles import load_profiled
    from tasks.report import console

    stack, image_profile, compose_profiles = load_profiled(profile, root)
    if volumes and not yes:
        names = ", ".join(sorted(v.name for v in stack.compose.volumes.values()))
        question = f"Delete volumes {names}? Back them up first (invoke volumes.backup)."
        if not confirmed(
            question, "--volumes deletes data; confirm with --yes (no terminal to ask on)"
        ):
            console.print("nothing deleted")
            raise Exit(code=EXIT_FINDINGS)
    all_profiles = tuple({p for s in stack.compose.services.values() for p in s.profiles})
    down(compose_client(stack, image_profile, all_profiles or compose_profiles), volumes)
    console.print("stack removed" + (" with its volumes" if volumes else ""))


@task(name="ps", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_ps(c: Context, json: bool = False, profile: str = "") -> None:
    """Show every container of the stack, tier by tier: state, health, IP and ports."""
    from tasks.images.views import services_table
    from tasks.profiles import current_statuses

    stack, rows = current_statuses(profile)
    services = [r.__dict__ for r in rows.values()]
    present(Outcome({"services": services}, [services_table(stack, rows, "stack")]), json)


@task(name="health", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_health(c: Context, json: bool = False, profile: str = "") -> None:
    """Exit 0 only when every running service of the stack is healthy."""
    from tasks.images.views import services_table
    from tasks.profiles import current_statuses

    stack, rows = current_statuses(profile)
    bad = [r.service for r in rows.values() if not r.ready]
    ok = bool(rows) and not bad
    data = {"ok": ok, "unhealthy": bad, "services": [r.__dict__ for r in rows.values()]}
    present(Outcome(data, [services_table(stack, rows, "health")], ok=ok), json)


@task(
    name="logs",
    help={
        "service": "one service (default: all)",
        "tail": "lines per service",
        "profile": "as for stack.up",
    },
)
def stack_logs(c: Context, service: str = "", tail: int = 50, profile: str = "") -> None:
    """Print the stack's recent logs."""
    from rich.markup import escape

    from tasks.engine.client import require_engine
    from tasks.engine.stack import compose_client, last_logs
    from tasks.images.services import require_service
    from tasks.profiles import load_profiled
    from tasks.report import console

    stack, image_profile, compose_profiles = load_profiled(profile)
    if service:
        require_service(stack, service)
    client = compose_client(stack, image_profile, compose_profiles)
    require_engine(client)
    for name in [service] if service else list(stack.compose.services):
        for line in last_logs(client, name, tail):
            console.print(escape(line), soft_wrap=True)


@task(name="restart", help={"service": "the service to restart", "profile": "as for stack.up"})
def stack_restart(c: Context, service: str, profile: str = "") -> None:
    """Restart one service and wait until it is healthy again."""
    from tasks.engine.stack import compose_client, restart, wait_healthy
    from tasks.images.services import require_service
    from tasks.images.views import services_table
    from tasks.profiles import load_profiled, network_name

    show_help_if_asked(service, "stack.restart")
    stack, image_profile, compose_profiles = load_profiled(profile)
    require_service(stack, service)
    client = compose_client(stack, image_profile, compose_profiles)
    started = time.monotonic()
    restart(client, service)
    result = wait_healthy(client, [service], network_name(stack), 120, lambda rows: None, started)
    views = [services_table(stack, result, f"restart {service}")]
    data = {"services": [r.__dict__ for r in result.values()]}
    present(Outcome(data, views, ok=result[service].ready), False)
