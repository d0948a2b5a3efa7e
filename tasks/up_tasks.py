"""`invoke up`: the main job in one command, each step the workflow of the task of that name."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, task


@task(
    name="up",
    help={
        "profile": "image profile to switch to first: online or offline (default: keep .env's)",
        "json": "print the summary as JSON (each step's own output still streams)",
        "persistence": "let verify.all restart the databases to prove their data survives",
    },
)
def up(c: Context, profile: str = "", json: bool = False, persistence: bool = False) -> None:
    """Set up, build, start and verify the whole stack; one summary at the end.

    Runs check, env.init, build.all --parallel, stack.up, verify.all (the client section
    starts every MCP server inside the dev container as VS Code does) and mcp.probe in this
    process, stopping at the first step that fails. Idempotent: a second run rebuilds nothing
    and restarts nothing, and the user's databases keep their data and uptime (verify.all
    checks persistence in a scratch database; --persistence also restarts the databases).
    """
    from tasks.workflows.up import up as main_job

    present(main_job(profile, persistence, json), json)
