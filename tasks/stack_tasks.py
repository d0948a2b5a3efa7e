"""`invoke stack.*`: bring the compose stack up tier by tier, inspect it, take it down."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from tasks.engine.client import EngineError, require_engine
from tasks.engine.stack import (
    ServiceStatus,
    compose_client,
    down,
    last_logs,
    restart,
    statuses,
    up_and_wait,
    wait_healthy,
)
from tasks.env_tasks import secret_status
from tasks.images.services import MAX_TIER, Selection, select_services
from tasks.model.stack import PROFILES_DIR, Stack, load_stack
from tasks.report import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    REPO_ROOT,
    bad_input_exits,
    console,
    emit_json,
    errors,
)

NETWORK_KEY = "mcp-cluster"


def split_profiles(stack: Stack, profile: str) -> tuple[str | None, tuple[str, ...]]:
    """`--profile offline,grafana` -> image profile `offline`, compose profiles (grafana,)."""
    names = [p for p in profile.split(",") if p]
    images = [p for p in names if (stack.folder / PROFILES_DIR / f"{p}.env").is_file()]
    if len(images) > 1:
        raise ValueError(f"choose one image profile, not {', '.join(images)}")
    return (images[0] if images else None), tuple(p for p in names if p not in images)


def network_name(stack: Stack) -> str:
    """Docker's name of the stack's main network."""
    network = stack.compose.networks.get(NETWORK_KEY)
    return network.name if network else next(iter(stack.compose.networks.values())).name


def _table(rows: dict[str, ServiceStatus], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("service", "state", "health", "IP", "ports", "s to healthy"):
        table.add_column(column)
    for row in rows.values():
        style = "green" if row.ready else "red" if row.failed else "yellow"
        seconds = f"{row.seconds_to_healthy:.1f}" if row.seconds_to_healthy is not None else ""
        table.add_row(
            row.service, row.state, f"[{style}]{row.health}[/]", row.ip, row.ports, seconds
        )
    return table


def load_profiled(
    profile: str, json: bool, root: str = ""
) -> tuple[Stack, str | None, tuple[str, ...]]:
    """The stack loaded with its image profile, and the compose profiles `--profile` names."""
    base = Path(root) if root else REPO_ROOT
    with bad_input_exits(json):
        stack = load_stack(base, None)
        try:
            image_profile, compose_profiles = split_profiles(stack, profile)
        except ValueError as error:
            errors.print(f"[red]error:[/] {escape(str(error))}")
            raise Exit(code=EXIT_BAD_INPUT) from None
        return load_stack(base, image_profile), image_profile, compose_profiles


def _select(
    stack: Stack, image_profile: str | None, compose: tuple[str, ...], tier: int
) -> Selection:
    try:
        return select_services(stack, image_profile, compose, tier)
    except ValueError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_BAD_INPUT) from None


def _require_secrets(stack: Stack, selection: Selection) -> None:
    wanted = {s for name in selection.services for s in stack.compose.services[name].secrets}
    missing = [
        item["variable"]
        for name, item in secret_status(stack).items()
        if name in wanted and not item["provided"]
    ]
    if missing:
        errors.print(
            f"[red]error:[/] secrets not provided: {', '.join(missing)}. Fix: export them, "
            "or run `invoke env.init` to write random ones to .devcontainer/.env"
        )
        raise Exit(code=EXIT_BAD_INPUT)


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
    },
)
def stack_up(
    c: Context,
    tier: int = MAX_TIER,
    profile: str = "",
    timeout: int = 180,
    json: bool = False,
    root: str = "",
) -> None:
    """Start the stack tier by tier and wait until every service is healthy.

    Prints service, state, health, IP, ports and seconds to healthy; on failure names each
    unhealthy service with its last log lines and exits 1.
    """
    stack, image_profile, compose_profiles = load_profiled(profile, json, root)
    selection = _select(stack, image_profile, compose_profiles, tier)
    _require_secrets(stack, selection)
    client = compose_client(stack, image_profile, compose_profiles)
    network = network_name(stack)
    started = time.monotonic()
    try:
        require_engine(client)
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
                    lambda rows: live.update(_table(rows, "starting")),
                )
    except EngineError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_FINDINGS) from None
    bad = [s for s in result.values() if not s.ready]
    failed = bool(bad or up_error)
    logs = {s.service: last_logs(client, s.service) for s in bad}
    if json:
        emit_json(
            {
                "ok": not bad and not up_error,
                "error": up_error,
                "seconds": round(time.monotonic() - started, 2),
                "services": [s.__dict__ for s in result.values()],
                "not_exercised": selection.not_exercised,
                "logs": logs,
            }
        )
    else:
        console.print(_table(result, f"stack ({time.monotonic() - started:.1f} s)"))
        for name, reason in selection.not_exercised.items():
            console.print(f"[yellow]not exercised:[/] {name}: {escape(reason)}")
        if up_error:
            console.print(f"[red]{escape(up_error)}[/]", soft_wrap=True)
        for status in bad:
            console.print(
                f"[red]{status.service} is {status.health or status.state}[/]; last logs:"
            )
            for line in logs[status.service]:
                console.print(f"  {escape(line)}", soft_wrap=True)
    if failed:
        raise Exit(code=EXIT_FINDINGS)


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
    stack, image_profile, compose_profiles = load_profiled(profile, False, root)
    if volumes and not yes:
        names = ", ".join(sorted(v.name for v in stack.compose.volumes.values()))
        if not sys.stdin.isatty():
            errors.print(
                "[red]error:[/] --volumes deletes data; confirm with --yes (no terminal to ask on)"
            )
            raise Exit(code=EXIT_BAD_INPUT)
        answer = input(
            f"Delete volumes {names}? Back them up first (invoke volumes.backup). "
            "Type 'yes' to delete: "
        )
        if answer.strip() != "yes":
            console.print("nothing deleted")
            raise Exit(code=EXIT_FINDINGS)
    all_profiles = tuple({p for s in stack.compose.services.values() for p in s.profiles})
    try:
        down(compose_client(stack, image_profile, all_profiles or compose_profiles), volumes)
    except EngineError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_FINDINGS) from None
    console.print("stack removed" + (" with its volumes" if volumes else ""))


def _current(profile: str) -> tuple[Stack, dict[str, ServiceStatus]]:
    stack, image_profile, compose_profiles = load_profiled(profile, False)
    client = compose_client(stack, image_profile, compose_profiles)
    try:
        return stack, statuses(client, network_name(stack))
    except EngineError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_FINDINGS) from None


@task(name="ps", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_ps(c: Context, json: bool = False, profile: str = "") -> None:
    """Show every container of the stack: state, health, IP and ports."""
    _, rows = _current(profile)
    if json:
        emit_json({"services": [r.__dict__ for r in rows.values()]})
    else:
        console.print(_table(rows, "stack"))


@task(name="health", help={"json": "print JSON", "profile": "as for stack.up"})
def stack_health(c: Context, json: bool = False, profile: str = "") -> None:
    """Exit 0 only when every running service of the stack is healthy."""
    _, rows = _current(profile)
    bad = [r.service for r in rows.values() if not r.ready]
    if json:
        emit_json(
            {
                "ok": bool(rows) and not bad,
                "unhealthy": bad,
                "services": [r.__dict__ for r in rows.values()],
            }
        )
    else:
        console.print(_table(rows, "health"))
    if bad or not rows:
        raise Exit(code=EXIT_FINDINGS)


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
    stack, image_profile, compose_profiles = load_profiled(profile, False)
    if service and service not in stack.compose.services:
        errors.print(
            f"[red]error:[/] no service {service!r}; choose one of "
            f"{', '.join(stack.compose.services)}"
        )
        raise Exit(code=EXIT_BAD_INPUT)
    client = compose_client(stack, image_profile, compose_profiles)
    for name in [service] if service else list(stack.compose.services):
        for line in last_logs(client, name, tail):
            console.print(escape(line), soft_wrap=True)


@task(name="restart", help={"service": "the service to restart", "profile": "as for stack.up"})
def stack_restart(c: Context, service: str, profile: str = "") -> None:
    """Restart one service and wait until it is healthy again."""
    stack, image_profile, compose_profiles = load_profiled(profile, False)
    if service not in stack.compose.services:
        errors.print(
            f"[red]error:[/] no service {service!r}; choose one of "
            f"{', '.join(stack.compose.services)}"
        )
        raise Exit(code=EXIT_BAD_INPUT)
    client = compose_client(stack, image_profile, compose_profiles)
    started = time.monotonic()
    try:
        restart(client, service)
        result = wait_healthy(
            client, [service], network_name(stack), 120, lambda rows: None, started
        )
    except EngineError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_FINDINGS) from None
    console.print(_table(result, f"restart {service}"))
    if not result[service].ready:
        raise Exit(code=EXIT_FINDINGS)
