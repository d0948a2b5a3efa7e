"""`invoke up`: the main job in one command, each step the task of the same name."""

from __future__ import annotations

import subprocess
import sys
import time

from invoke.context import Context

from tasks.contract import Outcome, present, table, task

STEPS: tuple[tuple[str, ...], ...] = (
    ("check",),
    ("env.init",),
    ("build.all", "--parallel"),
    ("stack.up",),
    ("verify.all",),
    ("mcp.probe", "--repeat", "1"),
)


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
    starts every MCP server inside the dev container as VS Code does) and mcp.probe, stopping
    at the first step that fails. Idempotent: a second run rebuilds nothing and restarts nothing,
    and the user's databases keep their data and uptime (verify.all checks persistence in a
    scratch database; --persistence also restarts the databases).
    """
    from tasks.errors import EXIT_FINDINGS
    from tasks.report import REPO_ROOT, console

    rows: list[dict[str, object]] = []
    # The profile goes to env.init only: from there on .devcontainer/.env selects it for every
    # step, as for VS Code and compose.
    commands = [
        [*step, "--profile", profile] if step[0] == "env.init" and profile else list(step)
        for step in STEPS
    ]
    if persistence:
        commands = [[*cmd, "--persistence"] if cmd[0] == "verify.all" else cmd for cmd in commands]
    for command in commands:
        if not json:
            console.rule(f"invoke {' '.join(command)}")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "invoke", *command],
            cwd=REPO_ROOT,
            check=False,
            stdout=sys.stderr if json else None,
        )
        rows.append(
            {
                "step": " ".join(command),
                "ok": result.returncode == 0,
                "exit": result.returncode,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
        if result.returncode != 0:
            break
    failed = [r for r in rows if not r["ok"]]
    skipped = [" ".join(cmd) for cmd in commands[len(rows) :]]
    lines = [
        (
            str(row["step"]),
            "[green]ok[/]" if row["ok"] else f"[red]failed (exit {row['exit']})[/]",
            f"{row['seconds']:.1f}",
        )
        for row in rows
    ]
    lines += [(step, "[yellow]not run (an earlier step failed)[/]", "") for step in skipped]
    view = table("invoke up", ("step", "result", "seconds"), lines)
    # A failed step's own exit code (2 for bad input) is up's.
    code = (int(str(failed[0]["exit"])) or EXIT_FINDINGS) if failed else 0
    data = {"ok": not failed, "steps": rows, "not_run": skipped}
    present(Outcome(data, [view], ok=not failed, code=code), json)
