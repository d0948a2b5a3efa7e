"""Variables: everything the compose file interpolates is defined in devcontainer.env."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tasks.model.envfile import load_env_file
from tasks.model.masks import is_secret_name
from tasks.model.stack import PROFILES_DIR, Stack
from tasks.rules.base import Hit, Severity, rule

_DEFAULTED = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):?[-?]")


@rule("ENV001", "variable used but defined nowhere", Severity.ERROR)
def undefined(stack: Stack) -> Iterator[Hit]:
    """A `${VAR}` without default must be defined in devcontainer.env (or be a secret the
    user provides, listed in .env.example).
    """
    for item in stack.compose.unresolved:
        if item.variable in stack.secret_names:
            continue
        fix = (
            f"list {item.variable} in .env.example and read it from the shell or .env"
            if is_secret_name(item.variable)
            else f"define {item.variable} in devcontainer.env or write ${{{item.variable}:-value}}"
        )
        yield Hit(item.path, item.line, f"{item.key}: ${{{item.variable}}} is not defined", fix)


@rule("ENV002", "variable missing from devcontainer.env", Severity.WARNING)
def documented(stack: Stack) -> Iterator[Hit]:
    """Variables with defaults, and compose secrets' source variables, are listed where users
    look: devcontainer.env, a profile's env file, or .env.example for secrets.
    """
    known = set(stack.env.as_dict()) | set(stack.secret_names)
    for profile in sorted((stack.folder / PROFILES_DIR).glob("*.env")):
        known |= set(load_env_file(profile).as_dict())
    for number, line in enumerate(stack.compose.doc.text.splitlines(), start=1):
        for match in _DEFAULTED.finditer(line):
            name = match.group("name")
            if name not in known:
                yield Hit(
                    stack.compose.path,
                    number,
                    f"{name} has a default here but is listed nowhere",
                    f"add {name} to devcontainer.env (or a profile's env file)",
                )
    for key, spec in stack.compose.secrets.items():
        source = (spec or {}).get("environment")
        if source and source not in stack.secret_names:
            yield Hit(
                stack.compose.path,
                stack.compose.line("secrets", key),
                f"secret {key} reads {source}, which .env.example does not list",
                f"add `{source}=` to .devcontainer/.env.example",
            )
