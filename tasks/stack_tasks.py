"""`invoke stack.*`: bring the compose stack up tier by tier, inspect it, take it down."""

from __future__ import annotations

from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import present, task
from tasks.helpflag import show_help_if_asked
from tasks.images.sharing import REGISTRY_HELP
from tasks.outcome import Outcome
from tasks.selection import MAX_TIER


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
    from tasks.workflows.profile import Profiled
    from tasks.workflows.stack import stack_up as start

    profiled = Profiled.load(profile, root)
    present(start(profiled, tier, timeout, pull, registry, quiet=json), json)


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
    from tasks.report import console
    from tasks.workflows.profile import Profiled

    profiled = Profiled.load(profile, root)
    stack = profiled.stack
    if volumes and not yes:
        names = ", ".join(sorted(v.name for v in stack.compose.volumes.values()))
        question = f"Delete volumes {names}? Back them up first (invoke volumes.backup)."
        if not confirmed(
            question, "--volumes deletes data; confirm with --yes (no terminal to ask on)"
        ):
            console.print("nothing deleted")
            raise Exit(code=EXIT_FINDINGS)
    all_profiles = tuple({p for s in stack.compose.services.values() for p in s.profiles})
    client = compose_client(
        stack, profiled.image_profile, all_profiles or profiled.compose_profiles
    )
    ended = down(client, volumes, stack.compose.network_names(), stack.compose.volume_names())
    if ended:
        console.print(f"ended sessions still using the stack: {', '.join(ended)}")
    console.print("stack removed" + (" with its volumes" if volumes else ""))


@task(name="ps", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_ps(c: Context, json: bool = False, profile: str = "") -> None:
    """Show every container of the stack, tier by tier: state, health, IP and ports."""
    from tasks.workflows.profile import Profiled
    from tasks.workflows.views import services_table

    profiled = Profiled.load(profile)
    rows = profiled.statuses()
    services = [r.__dict__ for r in rows.values()]
    view = services_table(profiled.stack, rows, "stack")
    present(Outcome({"services": services}, [view]), json)


@task(name="health", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_health(c: Context, json: bool = False, profile: str = "") -> None:
    """Exit 0 only when every running service of the stack is healthy."""
    from tasks.workflows.profile import Profiled
    from tasks.workflows.views import services_table

    profiled = Profiled.load(profile)
    rows = profiled.statuses()
    bad = [r.service for r in rows.values() if not r.ready]
    ok = bool(rows) and not bad
    data = {"ok": ok, "unhealthy": bad, "services": [r.__dict__ for r in rows.values()]}
    view = services_table(profiled.stack, rows, "health")
    present(Outcome(data, [view], ok=ok), json)


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
    from tasks.engine.stack import last_logs
    from tasks.report import console
    from tasks.selection import require_service
    from tasks.workflows.profile import Profiled

    profiled = Profiled.load(profile)
    if service:
        require_service(profiled.stack, service)
    require_engine(profiled.client)
    for name in [service] if service else list(profiled.stack.compose.services):
        for line in last_logs(profiled.client, name, tail):
            console.print(escape(line), soft_wrap=True)


@task(name="restart", help={"service": "the service to restart", "profile": "as for stack.up"})
def stack_restart(c: Context, service: str, profile: str = "") -> None:
    """Restart one service and wait until it is healthy again."""
    from tasks.workflows.profile import Profiled
    from tasks.workflows.stack import restart_service

    show_help_if_asked(service, "stack.restart")
    present(restart_service(Profiled.load(profile), service), False)
