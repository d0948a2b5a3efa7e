"""Bringing the compose stack up tier by tier, and restarting one service."""

from __future__ import annotations

import time

from rich.live import Live
from rich.markup import escape

from tasks.engine.stack import health_output, last_logs, restart, up_and_wait, wait_healthy
from tasks.outcome import Outcome
from tasks.report import console
from tasks.selection import MAX_TIER, require_service
from tasks.workflows.profile import Profiled
from tasks.workflows.secrets import require_secrets
from tasks.workflows.views import services_table

RESTART_SECONDS = 120


def stack_up(
    profiled: Profiled,
    tier: int = MAX_TIER,
    timeout: float = 180,
    pull: bool = False,
    registry: str = "",
    quiet: bool = False,
) -> Outcome:
    """Start the services up to `tier` and wait until each is healthy (live progress on a
    terminal unless `quiet`): service, state, health, IP, ports and seconds to healthy; each
    unhealthy service with its healthcheck's output and last log lines. With `pull`, the
    images come from the registry instead."""
    stack = profiled.stack
    selection = profiled.selection(tier)
    require_secrets(stack, list(selection.services))
    profiled.require_generated(list(selection.services))
    client = profiled.client
    pulled = profiled.pull_images(selection, registry) if pull else []
    if pulled and not quiet:
        console.print(f"pulled {len(pulled)} image(s) from the registry")
    services = list(selection.services)
    started = time.monotonic()
    # No separate engine check: the first poll names a missing engine (EngineError, exit 1).
    if quiet or not console.is_terminal:
        result, up_error = up_and_wait(client, services, profiled.network, timeout, lambda r: None)
    else:
        with Live(console=console, refresh_per_second=2) as live:
            result, up_error = up_and_wait(
                client,
                services,
                profiled.network,
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
    return Outcome(data, views, ok=bool(data["ok"]))


def restart_service(profiled: Profiled, service: str) -> Outcome:
    """Restart one service and wait until it is healthy again."""
    require_service(profiled.stack, service)
    started = time.monotonic()
    restart(profiled.client, service)
    result = wait_healthy(
        profiled.client, [service], profiled.network, RESTART_SECONDS, lambda rows: None, started
    )
    views = [services_table(profiled.stack, result, f"restart {service}")]
    data = {"services": [r.__dict__ for r in result.values()]}
    return Outcome(data, views, ok=result[service].ready)
