"""What `env.show` and `env.init` work out: each service's environment (secret values masked),
random passwords for the secrets nothing provides yet, and the CA bundle line for hosts
without Debian's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tasks.errors import Failure
from tasks.model.stack import Stack


def service_environment(stack: Stack, name: str) -> list[dict[str, Any]]:
    """Rows of (variable, masked value, source) for one service."""
    from tasks.rules.context import effective_env
    from tasks.workflows.secrets import MASK, mask

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


def refuse_orphaning_data(stack: Stack, missing: list[str], say: Callable[[str], object]) -> None:
    """Stop before minting a password whose database already exists (it was made with another)."""
    from tasks.engine.client import docker_client
    from tasks.engine.volumes import describe
    from tasks.errors import EngineError
    from tasks.workflows.secrets import data_volumes_of

    wanted = {name: data_volumes_of(stack, name) for name in missing}
    volumes = sorted({v for names in wanted.values() for v in names})
    if not volumes:
        return
    try:
        present = {v.name for v in describe(docker_client(), volumes) if v.exists}
    except EngineError:
        say("[yellow]note:[/] no engine: cannot check for existing database volumes")
        return
    clashes = {name: [v for v in names if v in present] for name, names in wanted.items()}
    clashes = {name: found for name, found in clashes.items() if found}
    if clashes:
        detail = "; ".join(f"{n} (volume {', '.join(v)})" for n, v in clashes.items())
        raise Failure(
            f"not generating {detail}: the data there was created with another "
            "password, which a new one would not open. Fix: restore the .devcontainer/.env "
            "that created it, or back the data up (invoke volumes.backup) and remove it "
            "(invoke stack.down --volumes), then run env.init again"
        )


def with_passwords(
    stack: Stack, text: str, current: dict[str, str], say: Callable[[str], object]
) -> tuple[str, list[str]]:
    """`text` plus a random value for each password secret nothing provides yet."""
    import secrets

    from tasks.model.stack import LOCAL_ENV
    from tasks.workflows.secrets import secret_status

    wanted = [str(item["variable"]) for item in secret_status(stack).values() if item["variable"]]
    missing = [name for name in wanted if not current.get(name) and name not in os.environ]
    added = [name for name in missing if "PASSWORD" in name]
    refuse_orphaning_data(stack, added, say)
    for name in missing:
        if name not in added:
            say(
                f"{name} is a credential from elsewhere (e.g. a GitHub token): set it "
                f"yourself in {stack.rel(stack.folder / LOCAL_ENV)} or the shell when you need it"
            )
    lines = [f"{name}={secrets.token_urlsafe(24)}" for name in added]
    separator = "" if not text or text.endswith("\n") else "\n"
    return (text + separator + "\n".join(lines) + "\n" if lines else text), added


def ca_line(current: dict[str, str]) -> list[str]:
    """BUILD_CA_BUNDLE for hosts without the Debian bundle compose defaults to."""
    from tasks.images.plan import CA_VARIABLE, DEFAULT_CA_BUNDLE, detect_ca_bundle

    if current.get(CA_VARIABLE) or Path(DEFAULT_CA_BUNDLE).is_file():
        return []
    found = detect_ca_bundle()
    return [f"{CA_VARIABLE}={found}"] if found else []
