"""`invoke env.*`: what each service receives, and whether the variables are complete."""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import present, table, task
from tasks.outcome import Outcome


@task(
    name="show",
    help={
        "service": "only this service",
        "profile": "interpolate with profiles/NAME.env too",
        "json": "print JSON",
        "root": "repository; default: this repository",
    },
)
def env_show(
    c: Context, service: str = "", profile: str = "", json: bool = False, root: str = ""
) -> None:
    """Show the environment each service receives, secret values masked.

    Sources: image ENV, env_file, `environment:` and compose secrets.
    """
    from rich.markup import escape

    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT
    from tasks.selection import require_service
    from tasks.workflows.envinit import service_environment
    from tasks.workflows.secrets import secret_status

    stack = load_stack(Path(root) if root else REPO_ROOT, profile or None)
    if service:
        require_service(stack, service)
    names = [service] if service else sorted(stack.compose.services)
    data = {name: service_environment(stack, name) for name in names}
    views = [
        table(
            name,
            ("variable", "value", "source"),
            [(escape(r["variable"]), escape(str(r["value"])), escape(r["source"])) for r in rows],
        )
        for name, rows in data.items()
    ]
    present(Outcome({"services": data, "secrets": secret_status(stack)}, views), json)


@task(
    name="check",
    help={
        "root": "repository; default: this repository",
        "json": "print JSON",
        "require_secrets": "also fail when a compose secret's variable is not provided",
    },
)
def env_check(
    c: Context, root: str = "", json: bool = False, require_secrets: bool = False
) -> None:
    """Check the variables: defined, consistent, and no secret values committed.

    Also lists which secrets the shell or .devcontainer/.env provides.
    """
    from tasks.errors import EXIT_FINDINGS
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT, console, findings_outcome
    from tasks.rules.catalog import run_rules
    from tasks.workflows.secrets import secret_status

    stack = load_stack(Path(root) if root else REPO_ROOT)
    findings = run_rules(stack, {"ENV", "SEC", "CMP007", "CMP014"})
    status = secret_status(stack)
    missing = sorted(name for name, item in status.items() if not item["provided"])
    if not json:
        rows = [
            (name, str(item["variable"]), "yes" if item["provided"] else "[yellow]no[/]")
            for name, item in sorted(status.items())
        ]
        console.print(
            table("secrets (values never shown)", ("secret", "variable", "provided"), rows)
        )
    try:
        present(findings_outcome("env.check", findings, extra={"secrets": status}), json)
    finally:
        # Under --json the findings' "secrets" already say which are missing.
        if require_secrets and missing and not json:
            console.print(
                f"[red]missing secrets:[/] {', '.join(missing)}: set them in the shell "
                "or in .devcontainer/.env (see .env.example)",
                soft_wrap=True,
            )
    if require_secrets and missing:
        raise Exit(code=EXIT_FINDINGS)


@task(
    name="init",
    help={
        "profile": "image profile every consumer builds with: online or offline "
        "(default: keep the one .env selects)",
        "root": "repository; default: this repository",
    },
)
def env_init(c: Context, profile: str = "", root: str = "") -> None:
    """Prepare .devcontainer/.env (mode 600): the image profile and missing passwords.

    VS Code, the devcontainer CLI and `docker compose` read only this file, so
    `--profile offline` (or `online`) here is the one switch they and the tasks all follow.
    Existing secrets and other keys are kept; values are never printed; the file is gitignored.
    """
    from tasks.workflows.env import init_env

    present(init_env(profile, root), False)
