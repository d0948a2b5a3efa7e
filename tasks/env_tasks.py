"""`invoke env.*`: what each service receives, and whether the variables are complete."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.table import Table

from tasks.model.envfile import load_env_file
from tasks.model.stack import Stack, load_stack
from tasks.report import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    REPO_ROOT,
    bad_input_exits,
    console,
    emit_json,
    report_findings,
)
from tasks.rules.context import effective_env, is_secret_name
from tasks.rules.registry import run_rules

MASK = "****"
_TOKEN_SHAPE = re.compile(r"ghp_|github_pat_|AKIA[0-9A-Z]{16}|-----BEGIN")


def mask(key: str, value: str | None) -> str | None:
    """Hide a secret's value, keep references (`${VAR}`, `/run/secrets/...`) readable."""
    if value is None or value == "":
        return value
    if value.startswith("/run/secrets/") or value.startswith("${"):
        return value
    if is_secret_name(key) or _TOKEN_SHAPE.search(value):
        return MASK
    return value


def secret_status(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each compose secret: the variable it reads and whether the shell or .env provides it."""
    local = stack.folder / ".env"
    provided = set(os.environ)
    if local.is_file():
        provided |= {k for k, v in load_env_file(local).as_dict().items() if v}
    status: dict[str, dict[str, Any]] = {}
    for name, spec in stack.compose.secrets.items():
        variable = (spec or {}).get("environment")
        status[name] = {
            "variable": variable,
            "file": (spec or {}).get("file"),
            "provided": bool(variable and variable in provided),
        }
    return status


def service_environment(stack: Stack, name: str) -> list[dict[str, Any]]:
    """Rows of (variable, masked value, source) for one service."""
    service = stack.compose.services[name]
    rows = [
        {
            "variable": key,
            "value": mask(key, setting.value),
            "source": f"{stack.rel(setting.path)}:{setting.line or ''}".rstrip(":"),
        }
        for key, setting in sorted(effective_env(stack, service).items())
    ]
    rows += [
        {"variable": f"/run/secrets/{secret}", "value": MASK, "source": "compose secret"}
        for secret in service.secrets
    ]
    return rows


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
    with bad_input_exits(json):
        stack = load_stack(Path(root) if root else REPO_ROOT, profile or None)
    names = [service] if service else sorted(stack.compose.services)
    unknown = [n for n in names if n not in stack.compose.services]
    if unknown:
        console.print(
            f"[red]error:[/] no service {unknown[0]!r} in {stack.rel(stack.compose.path)}"
            f"; choose one of {', '.join(sorted(stack.compose.services))}"
        )
        raise Exit(code=EXIT_BAD_INPUT)
    data = {name: service_environment(stack, name) for name in names}
    if json:
        emit_json({"services": data, "secrets": secret_status(stack)})
        return
    for name, rows in data.items():
        table = Table(title=f"{name}", title_justify="left")
        for column in ("variable", "value", "source"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(row["variable"], str(row["value"]), row["source"])
        console.print(table)


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
    with bad_input_exits(json):
        stack = load_stack(Path(root) if root else REPO_ROOT)
        findings = run_rules(stack, {"ENV", "SEC", "CMP007", "CMP014"})
    status = secret_status(stack)
    missing = sorted(name for name, item in status.items() if not item["provided"])
    if not json:
        table = Table(title="secrets (values never shown)", title_justify="left")
        for column in ("secret", "variable", "provided"):
            table.add_column(column)
        for name, item in sorted(status.items()):
            table.add_row(
                name, str(item["variable"]), "yes" if item["provided"] else "[yellow]no[/]"
            )
        console.print(table)
    try:
        report_findings("env.check", findings, json, extra={"secrets": status})
    finally:
        if require_secrets and missing:
            console.print(
                f"[red]missing secrets:[/] {', '.join(missing)}: set them in the shell "
                "or in .devcontainer/.env (see .env.example)",
                soft_wrap=True,
            )
    if require_secrets and missing:
        raise Exit(code=EXIT_FINDINGS)


@task(name="init", help={"root": "repository; default: this repository"})
def env_init(c: Context, root: str = "") -> None:
    """Write random passwords for missing password secrets into .devcontainer/.env (mode 600).

    Existing values are kept; tokens from other services are listed, not invented; the file is
    gitignored and values are never printed.
    """
    with bad_input_exits(False):
        stack = load_stack(Path(root) if root else REPO_ROOT)
    path = stack.folder / ".env"
    current = load_env_file(path).as_dict() if path.is_file() else {}
    wanted = [str(item["variable"]) for item in secret_status(stack).values() if item["variable"]]
    missing = [name for name in wanted if not current.get(name) and name not in os.environ]
    added = [name for name in missing if "PASSWORD" in name]
    for name in missing:
        if name not in added:
            console.print(
                f"{name} is a credential from elsewhere (e.g. a GitHub token): set it "
                f"yourself in {stack.rel(path)} or the shell when you need it"
            )
    if not added:
        console.print(f"{stack.rel(path)}: every password is already provided")
        return
    lines = [f"{name}={secrets.token_urlsafe(24)}" for name in added]
    previous = path.read_text(encoding="utf-8") if path.is_file() else ""
    separator = "" if not previous or previous.endswith("\n") else "\n"
    path.write_text(previous + separator + "\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    console.print(f"{stack.rel(path)}: generated {', '.join(added)}")
