"""`invoke verify.*`: phase 10 checks of the running stack, one task per plan section."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from invoke.context import Context

from tasks.contract import Outcome, present, table, task

if TYPE_CHECKING:
    from tasks.engine.verify import Check, Verifier

HELP = {"profile": "as for stack.up (e.g. offline)", "json": "print JSON"}


def sections() -> dict[str, Callable[[Verifier], list[Check]]]:
    """Each section's checks by name, in the order verify.all runs them."""
    from tasks.engine.client import docker_client
    from tasks.engine.doctor import gather_facts
    from tasks.engine.verify import Verifier, http_get
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
        "monitoring": lambda v: v.monitoring(http_get),
        "freethreading": Verifier.freethreading,
        "client": client_checks,
    }


def run_sections(names: list[str], profile: str, json: bool) -> None:
    """Run the named sections and report; exit 1 on any failed check. Several sections end
    with a check that every service which ran at the start still runs."""
    from rich.markup import escape

    from tasks.engine.verify import FAIL, PASS
    from tasks.profiles import load_profiled, verifier_for

    stack, image_profile, compose_profiles = load_profiled(profile)
    verifier = verifier_for(stack, image_profile, compose_profiles)
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
    present(Outcome(data, views, ok=not failed), json)


def _section(name: str, doc: str) -> Callable[..., None]:
    def run(c: Context, profile: str = "", json: bool = False) -> None:
        run_sections([name], profile, json)

    run.__doc__ = doc
    run.__name__ = f"verify_{name}"
    return task(name=name, help=HELP)(run)  # type: ignore[no-any-return]


verify_health = _section("health", "Check every service with its own probe (plan 10.2).")
verify_network = _section(
    "network", "Check the mcp-cluster network, static IPs and reachability (10.4)."
)
verify_volumes = _section(
    "volumes", "Check volumes exist and database rows survive a restart (10.5)."
)
verify_gpu = _section(
    "gpu", "Check only the GPU service has a GPU; report a missing NVIDIA runtime (10.6)."
)
verify_monitoring = _section("monitoring", "Check prometheus targets and nginx routes (10.7).")
verify_freethreading = _section(
    "freethreading", "Check the GIL is off in the free-threaded images (10.8)."
)
verify_logs = _section("logs", "Scan the running services' logs for fatal errors.")
verify_client = _section(
    "client",
    "Start every MCP server of devcontainer.json inside the dev container as its remoteUser "
    "(as VS Code does) and complete initialize, tools/list and one call (10.3).",
)


@task(name="all", help=HELP)
def verify_all(c: Context, profile: str = "", json: bool = False) -> None:
    """Run every phase 10 check on the running stack: pass, fail or not exercised (with why).

    Exit 1 when any check fails.
    """
    run_sections(list(sections()), profile, json)
