"""Phase 10 (testing & verification): the sections of checks run on the running stack, and
their report."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from rich.markup import escape

from tasks.contract import table
from tasks.engine.client import docker_client
from tasks.engine.doctor import runtimes
from tasks.engine.parallel import each
from tasks.engine.stack import wait_healthy
from tasks.engine.verify import FAIL, PASS, SKIP, Check, Verifier, http_get
from tasks.outcome import Outcome
from tasks.rules.catalog import run_rules
from tasks.servers.inside import inside_specs, remote_settings
from tasks.servers.page import probe_page
from tasks.servers.probe import run_probes
from tasks.workflows.counted import ORIGIN, ClientCalls, counted_call
from tasks.workflows.probe import reach_for
from tasks.workflows.profile import Profiled


def sections(calls: ClientCalls | None = None) -> dict[str, Callable[[Verifier], list[Check]]]:
    """Each section's checks by name, in the order verify.all runs them; with `calls`, the
    monitoring section counts the client section's calls instead of making one."""
    return {
        "health": Verifier.health,
        "logs": Verifier.logs,
        "network": Verifier.network_checks,
        "volumes": Verifier.persistence,
        "gpu": lambda v: v.gpu(
            "nvidia" in runtimes(docker_client()),
            [f.message for f in run_rules(v.stack, {"CMP008"})],
        ),
        "monitoring": lambda v: monitoring_checks(v, calls),
        "freethreading": Verifier.freethreading,
        "client": lambda v: client_checks(v, calls=calls),
    }


def monitoring_checks(verifier: Verifier, calls: ClientCalls | None) -> list[Check]:
    """Phase 10 monitoring section: the monitoring stack's own checks and, at the same time,
    that a fresh MCP call is counted (`calls`: the client section's)."""
    parts: list[Callable[[], list[Check]]] = [
        lambda: verifier.monitoring(http_get),
        lambda: counted_call(verifier, http_get, calls),
    ]
    return [check for checks in each(lambda part: part(), parts) for check in checks]


def verify(names: list[str], profile: str, persistence: bool = False) -> Outcome:
    """Run the named sections on the stack of `--profile`; the outcome fails on any failed
    check. Several sections end with a check that every service which ran at the start still
    runs. `persistence`: 10.5 also restarts each database to prove its data survives."""
    verifier = Profiled.load(profile).verifier()
    verifier.restart_databases = persistence
    run = sections(ClientCalls() if {"client", "monitoring"} <= set(names) else None)
    # The sections mostly wait on containers, so they run at once; a persistence check that
    # restarts the databases runs alone, after the others, so that no other check sees it.
    alone = ["volumes"] if persistence and "volumes" in names else []
    together = [name for name in names if name not in alone]
    found = dict(zip(together, each(lambda name: run[name](verifier), together), strict=True))
    found.update({name: run[name](verifier) for name in alone})
    checks = [check for name in names for check in found[name]]
    if len(names) > 1:
        checks.append(verifier.stayed_up())
    failed = [c for c in checks if c.status == FAIL]
    counts = {s: sum(1 for c in checks if c.status == s) for s in (PASS, FAIL, "not exercised")}
    style_of = {PASS: "green", FAIL: "bold red"}
    rows = [
        (c.section, c.name, f"[{style_of.get(c.status, 'yellow')}]{c.status}[/]", escape(c.detail))
        for c in checks
    ]
    views = [
        table("verify", ("section", "check", "result", "detail"), rows),
        f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts['not exercised']} not exercised",
    ]
    data = {"ok": not failed, "summary": counts, "checks": [c.__dict__ for c in checks]}
    return Outcome(data, views, ok=not failed)


def client_checks(
    verifier: Verifier, timeout: float = 60.0, calls: ClientCalls | None = None
) -> list[Check]:
    """Phase 10 client section: every server of devcontainer.json, a stdio server started
    inside the dev container as its remote user and a URL server reached from there, completes
    initialize, tools/list and its probe call (marked as verification's calls).

    A server that cannot start is a failure; only a service the profile leaves out, or a
    secret nobody provided, is not exercised. Services still starting are waited for first
    (up to `timeout`). `calls`: the monitoring section counts these calls.
    """
    with calls.calling() if calls is not None else nullcontext():
        return _client_checks(verifier, timeout, calls)


def _client_checks(verifier: Verifier, timeout: float, calls: ClientCalls | None) -> list[Check]:
    stack = verifier.stack
    remote = remote_settings(stack)
    service, user = remote.service, remote.user
    names = sorted(stack.devcontainer.servers)
    if service in verifier.not_exercised:
        return [Check("client", n, SKIP, verifier.not_exercised[service]) for n in names]
    status = verifier.running.get(service)
    if status is None or not status.container:
        return [
            Check("client", n, FAIL, f"dev container ({service}) is not running") for n in names
        ]
    starting = sorted(name for name, s in verifier.running.items() if s.health == "starting")
    if starting:  # just brought up: a Dev Containers CLI `up` does not wait for health
        wait_healthy(verifier.client, starting, verifier.network, timeout)
    with probe_page() as url:
        specs, skipped = inside_specs(stack, remote, status.container, url, timeout, ORIGIN)
        if calls is not None:
            calls.wait_read()
        reach = reach_for(status.container, user)
        answered = calls.answered if calls is not None else lambda spec, result: None
        results = run_probes(specs, 1, 1, reach, together=True, answered=answered)
    checks = [
        Check(
            "client",
            r.name,
            PASS if r.ok else FAIL,
            f"as {user} in {service}: {r.tools} tools, probe call ok, {r.cold_start_ms:.0f} ms"
            if r.ok
            else r.error,
        )
        for r in results
    ]
    return checks + [
        Check("client", s.name, FAIL if s.refused else SKIP, s.reason) for s in skipped
    ]
