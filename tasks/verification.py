"""Phase 10: the sections of checks run on the running stack, and their report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tasks.contract import Outcome, table

if TYPE_CHECKING:
    from tasks.engine.verify import Check, Verifier


def sections() -> dict[str, Callable[[Verifier], list[Check]]]:
    """Each section's checks by name, in the order verify.all runs them."""
    from tasks.engine.client import docker_client
    from tasks.engine.doctor import gather_facts
    from tasks.engine.verify import Verifier, http_get
    from tasks.monitoring.counted import counted_call
    from tasks.rules.registry import run_rules
    from tasks.servers.inside import client_checks

    return {
        "health": Verifier.health,
        "logs": Verifier.logs,
        "network": Verifier.network_checks,
        "volumes": Verifier.persistence,
        "gpu": lambda v: v.gpu(
            "nvidia" in gather_facts(docker_client()).runtimes,
            [f.message for f in run_rules(v.stack, {"CMP008"})],
        ),
        "monitoring": lambda v: v.monitoring(http_get) + counted_call(v, http_get),
        "freethreading": Verifier.freethreading,
        "client": client_checks,
    }


def verify(names: list[str], profile: str, persistence: bool = False) -> Outcome:
    """Run the named sections on the stack of `--profile`; the outcome fails on any failed
    check. Several sections end with a check that every service which ran at the start still
    runs. `persistence`: 10.5 also restarts each database to prove its data survives."""
    from rich.markup import escape

    from tasks.engine.verify import FAIL, PASS
    from tasks.profiles import load_profiled, verifier_for

    stack, image_profile, compose_profiles = load_profiled(profile)
    verifier = verifier_for(stack, image_profile, compose_profiles)
    verifier.restart_databases = persistence
    run = sections()
    checks = [check for name in names for check in run[name](verifier)]
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
