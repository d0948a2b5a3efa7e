"""`invoke env.*`: what each service receives, and whether the variables are complete."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

if TYPE_CHECKING:
    from tasks.model.stack import Stack


def service_environment(stack: Stack, name: str) -> list[dict[str, Any]]:
    """Rows of (variable, masked value, source) for one service."""
    from tasks.rules.context import effective_env
    from tasks.stacksecrets import MASK, mask

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
    from rich.table import Table

    from tasks.model.stack import load_stack
    from tasks.report import EXIT_BAD_INPUT, REPO_ROOT, bad_input_exits, console, emit_json
    from tasks.stacksecrets import secret_status

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
    from rich.table import Table

    from tasks.model.stack import load_stack
    from tasks.report import EXIT_FINDINGS, REPO_ROOT, bad_input_exits, console, report_findings
    from tasks.rules.registry import run_rules
    from tasks.stacksecrets import secret_status

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


def _refuse_orphaning_data(stack: Stack, missing: list[str]) -> None:
    """Stop before minting a password whose database already exists (it was made with another)."""
    from tasks.engine.client import EngineError, docker_client
    from tasks.engine.volumes import describe
    from tasks.report import EXIT_FINDINGS, console, errors
    from tasks.stacksecrets import data_volumes_of

    wanted = {name: data_volumes_of(stack, name) for name in missing}
    volumes = sorted({v for names in wanted.values() for v in names})
    if not volumes:
        return
    try:
        present = {v.name for v in describe(docker_client(), volumes) if v.exists}
    except EngineError:
        console.print("[yellow]note:[/] no engine: cannot check for existing database volumes")
        return
    clashes = {name: [v for v in names if v in present] for name, names in wanted.items()}
    clashes = {name: found for name, found in clashes.items() if found}
    if clashes:
        detail = "; ".join(f"{n} (volume {', '.join(v)})" for n, v in clashes.items())
        errors.print(
            f"[red]error:[/] not generating {detail}: the data there was created with another "
            "password, which a new one would not open. Fix: restore the .devcontainer/.env "
            "that created it, or back the data up (invoke volumes.backup) and remove it "
            "(invoke stack.down --volumes), then run env.init again",
            soft_wrap=True,
        )
        raise Exit(code=EXIT_FINDINGS)


def _with_passwords(stack: Stack, text: str, current: dict[str, str]) -> tuple[str, list[str]]:
    """`text` plus a random value for each password secret nothing provides yet."""
    import secrets

    from tasks.model.stack import LOCAL_ENV
    from tasks.report import console
    from tasks.stacksecrets import secret_status

    wanted = [str(item["variable"]) for item in secret_status(stack).values() if item["variable"]]
    missing = [name for name in wanted if not current.get(name) and name not in os.environ]
    added = [name for name in missing if "PASSWORD" in name]
    _refuse_orphaning_data(stack, added)
    for name in missing:
        if name not in added:
            console.print(
                f"{name} is a credential from elsewhere (e.g. a GitHub token): set it "
                f"yourself in {stack.rel(stack.folder / LOCAL_ENV)} or the shell when you need it"
            )
    lines = [f"{name}={secrets.token_urlsafe(24)}" for name in added]
    separator = "" if not text or text.endswith("\n") else "\n"
    return (text + separator + "\n".join(lines) + "\n" if lines else text), added


def _ca_line(current: dict[str, str]) -> list[str]:
    """BUILD_CA_BUNDLE for hosts without the Debian bundle compose defaults to."""
    from tasks.images.plan import CA_VARIABLE, DEFAULT_CA_BUNDLE, detect_ca_bundle

    if current.get(CA_VARIABLE) or Path(DEFAULT_CA_BUNDLE).is_file():
        return []
    found = detect_ca_bundle()
    return [f"{CA_VARIABLE}={found}"] if found else []


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
    from tasks.files import write_atomic
    from tasks.model.envfile import parse_env_text
    from tasks.model.localenv import apply_profile
    from tasks.model.stack import LOCAL_ENV, find_folder, load_stack, profile_values
    from tasks.report import REPO_ROOT, bad_input_exits, console

    base = Path(root) if root else REPO_ROOT
    with bad_input_exits(False):
        folder = find_folder(base)[1]
        path = folder / LOCAL_ENV
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if profile:
            text = apply_profile(text, profile, profile_values(folder, profile))
            write_atomic(path, text, private=True)
        stack = load_stack(base)
        current = parse_env_text(text, path).as_dict()
    text, added = _with_passwords(stack, text, current)
    ca = _ca_line(current)
    if ca:
        text += "\n".join(ca) + "\n"
    write_atomic(path, text, private=True)
    if profile:
        console.print(f"{stack.rel(path)}: image profile {profile} for every consumer")
    console.print(
        f"{stack.rel(path)}: generated {', '.join(added)}"
        if added
        else f"{stack.rel(path)}: every password is already provided"
    )
