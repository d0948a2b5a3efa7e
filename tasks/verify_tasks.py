"""`invoke verify.*`: phase 10 checks of the running stack, one task per plan section."""

from __future__ import annotations

from collections.abc import Callable

from invoke.context import Context

from tasks.contract import present, task

HELP = {"profile": "as for stack.up (e.g. offline)", "json": "print JSON"}


def _section(name: str, doc: str) -> Callable[..., None]:
    def run(c: Context, profile: str = "", json: bool = False) -> None:
        from tasks.verification import verify

        present(verify([name], profile), json)

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
    from tasks.verification import sections, verify

    present(verify(list(sections()), profile), json)
