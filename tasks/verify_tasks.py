"""`invoke verify.*`: phase 10 checks of the running stack, one task per plan section."""

from __future__ import annotations

from collections.abc import Callable

from invoke.context import Context

from tasks.contract import present, task

HELP = {"profile": "as for stack.up (e.g. offline)", "json": "print JSON"}
PERSISTENCE = {
    **HELP,
    "persistence": "also restart each database to prove its data survives (changes uptime)",
}


def _section(name: str, doc: str) -> Callable[..., None]:
    def run(c: Context, profile: str = "", json: bool = False) -> None:
        from tasks.workflows.verify import verify

        present(verify([name], profile), json)

    run.__doc__ = doc
    run.__name__ = f"verify_{name}"
    return task(name=name, help=HELP)(run)  # type: ignore[no-any-return]


verify_health = _section("health", "Check every service with its own probe.")
verify_network = _section("network", "Check the mcp-cluster network, static IPs and reachability.")


@task(name="volumes", help=PERSISTENCE)
def verify_volumes(
    c: Context, profile: str = "", json: bool = False, persistence: bool = False
) -> None:
    """Check volumes exist and each database stores and reads back a row.

    The row goes into a scratch database (mcp_verify) that is created and dropped; the user's
    databases are never written. With --persistence each database is also restarted and the
    row read again after the restart.
    """
    from tasks.workflows.verify import verify

    present(verify(["volumes"], profile, persistence), json)


verify_gpu = _section(
    "gpu", "Check only the GPU service has a GPU; report a missing NVIDIA runtime."
)
verify_monitoring = _section(
    "monitoring",
    "Check every Prometheus target is up and every service with metrics scraped, the nginx "
    "routes, and that a fresh MCP call is counted.",
)
verify_freethreading = _section(
    "freethreading", "Check the GIL is off in the free-threaded images."
)
verify_logs = _section("logs", "Scan the running services' logs for fatal errors.")
verify_client = _section(
    "client",
    "Start every MCP server of devcontainer.json inside the dev container as its remoteUser "
    "(as VS Code does) and complete initialize, tools/list and one call.",
)


@task(name="all", help=PERSISTENCE)
def verify_all(
    c: Context, profile: str = "", json: bool = False, persistence: bool = False
) -> None:
    """Run every phase 10 (Testing & verification) check on the running stack.

    Each check passes, fails or is not exercised (with why).

    Leaves the user's data and the databases' uptime as they were: the persistence check
    writes into a scratch database it drops, and restarts the databases only with
    --persistence. Exit 1 when any check fails.
    """
    from tasks.workflows.verify import sections, verify

    present(verify(list(sections()), profile, persistence), json)
