"""The stack's secrets as the shell and .devcontainer/.env provide them, and masking of values
for display. Values are never returned, only whether each secret is there."""

from __future__ import annotations

import os
import re
from typing import Any

from tasks.errors import UsageError
from tasks.model.envfile import load_env_file
from tasks.model.masks import is_secret_name
from tasks.model.stack import LOCAL_ENV, Stack

MASK = "****"
_TOKEN_SHAPE = re.compile(r"ghp_|github_pat_|AKIA[0-9A-Z]{16}|-----BEGIN")
# The password of a URL's user (`scheme://user:password@host`), of a DSN without a scheme
# (`user:password@tcp(host)/db`), and `password=` in a keyword DSN (`host=db password=x`).
_PASSWORDS = (
    re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.I),
    re.compile(r"^(?P<keep>[^\s:/@]+:)[^\s@]+(?=@(?:[a-z]*\(|/))", re.I),
    re.compile(r"(?P<keep>\b(?:password|passwd|pwd)\s*=\s*)(?:'[^']*'|\"[^\"]*\"|[^\s;&]+)", re.I),
)


def mask_credentials(text: str) -> str:
    """`text` with the passwords inside URLs and DSNs replaced by `MASK` (the user, host and
    database stay readable)."""
    for pattern in _PASSWORDS:
        text = pattern.sub(lambda m: m.group("keep") + MASK, text)
    return text


def mask(key: str, value: str | None) -> str | None:
    """Hide a secret's value, and the password inside a URL or DSN; keep references
    (`${VAR}`, `/run/secrets/...`) readable."""
    if value is None or value == "":
        return value
    if value.startswith("/run/secrets/") or value.startswith("${"):
        return value
    if is_secret_name(key) or _TOKEN_SHAPE.search(value):
        return MASK
    return mask_credentials(value)


def secret_status(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each compose secret: the variable it reads and whether the shell or .env provides it."""
    local = stack.folder / LOCAL_ENV
    provided = set(os.environ)
    if local.is_file():
        provided |= {k for k, v in load_env_file(local).as_dict().items() if v}
    status: dict[str, dict[str, Any]] = {}
    for name, spec in stack.compose.secrets.items():
        variable = (spec or {}).get("environment")
        file = (spec or {}).get("file")
        status[name] = {
            "variable": variable,
            "file": file,
            "provided": bool(variable and variable in provided)
            or bool(file and (stack.compose.folder / str(file)).is_file()),
        }
    return status


SET_AT_START = "x-set-at-start"


def data_volumes_of(stack: Stack, variable: str) -> list[str]:
    """Named volumes of the services that receive the secret read from `variable`: data a new
    password would no longer open (none for a secret the stack sets again at every start,
    marked `x-set-at-start`)."""
    secrets = {
        n
        for n, spec in stack.compose.secrets.items()
        if (spec or {}).get("environment") == variable and not (spec or {}).get(SET_AT_START)
    }
    names = []
    for service in stack.compose.services.values():
        if secrets & set(service.secrets):
            for mount in service.mounts:
                volume = stack.compose.volumes.get(mount.source)
                if mount.type == "volume" and volume is not None:
                    names.append(volume.name)
    return names


def require_secrets(stack: Stack, services: list[str]) -> None:
    """A `UsageError` naming every secret the services need that nothing provides."""
    wanted = {s for name in services for s in stack.compose.services[name].secrets}
    missing = [
        item["variable"]
        for name, item in secret_status(stack).items()
        if name in wanted and not item["provided"]
    ]
    if missing:
        raise UsageError(
            f"secrets not provided: {', '.join(missing)}. Fix: export them, "
            "or run `invoke env.init` to write random ones to .devcontainer/.env"
        )
