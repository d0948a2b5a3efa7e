"""devcontainer.json against the rest of the stack: the compose services it names, the user VS
Code enters the container as, and the keys VS Code ignores."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from tasks.model.dockerfile import Dockerfile, parse_arg_instruction
from tasks.model.interpolate import Interpolator
from tasks.model.stack import Stack
from tasks.rules.base import IGNORED_KEY, Hit, Severity, rule
from tasks.rules.context import copied_scripts, image_family, service_dockerfile, service_images


def _settings(stack: Stack) -> dict[str, Any]:
    data = stack.devcontainer.doc.data
    return data if isinstance(data, dict) else {}


@rule("DEV001", "devcontainer.json names a compose service that does not exist", Severity.ERROR)
def named_services(stack: Stack) -> Iterator[Hit]:
    """`service` (the container VS Code attaches to) and each of `runServices` are services of
    the compose file; `devcontainer up` fails on any other name."""
    settings = _settings(stack)
    doc = stack.devcontainer.doc
    named = [("service", settings.get("service"))]
    named += [("runServices", name) for name in settings.get("runServices") or []]
    services = stack.compose.services
    for key, name in named:
        if isinstance(name, str) and name not in services:
            yield Hit(
                stack.devcontainer.path,
                doc.line_of(key),
                f"{key} {name!r} is not a service of {stack.rel(stack.compose.path)}: "
                "`devcontainer up` fails",
                f"name one of: {', '.join(sorted(services))}",
                key=key,
            )


# Users of upstream images (Debian's system users, and those the image adds), by image family.
_SYSTEM_USERS = frozenset(
    {
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
        "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody",
    }
)  # fmt: skip
_FAMILY_USERS = {
    "debian": frozenset(),
    "buildpack-deps": frozenset(),
    "python": frozenset(),
    "ubuntu": frozenset({"ubuntu"}),
    "node": frozenset({"node"}),
    "postgres": frozenset({"postgres"}),
    "mariadb": frozenset({"mysql"}),
    "mysql": frozenset({"mysql"}),
}
_DEVCONTAINERS_REGISTRY = ("mcr.microsoft.com/devcontainers/", "mcr.microsoft.com/vscode/")
_USER_TOOLS = ("useradd", "adduser")
# Options of useradd and adduser that take the next word as their value.
_VALUED = frozenset(
    {
        "-b", "-c", "-d", "-e", "-f", "-g", "-G", "-k", "-K", "-p", "-s", "-u", "-R", "-P", "-Z",
        "--base-dir", "--comment", "--home-dir", "--home", "--expiredate", "--inactive", "--gid",
        "--groups", "--skel", "--key", "--password", "--shell", "--uid", "--root", "--prefix",
        "--selinux-user", "--ingroup", "--gecos", "--firstuid", "--lastuid", "--firstgid",
        "--lastgid", "--conf", "--extrausers",
    }
)  # fmt: skip


def _base_users(image: str) -> frozenset[str] | None:
    """The users an upstream image is known to have; None for an image not known here."""
    if image.startswith(_DEVCONTAINERS_REGISTRY):
        return _SYSTEM_USERS | {"vscode", "node"}
    users = _FAMILY_USERS.get(image_family(image))
    return None if users is None else _SYSTEM_USERS | users


def _created(command: str) -> list[str]:
    """The names a `useradd`/`adduser` command line gives (its user, and a group it adds the
    user to: enough to know which users exist)."""
    names: list[str] = []
    for part in re.split(r"&&|\|\||[;|\n]", command):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        tools = [i for i, word in enumerate(words) if word.rsplit("/", 1)[-1] in _USER_TOOLS]
        if not tools:
            continue
        skip = False
        for word in words[tools[0] + 1 :]:
            if skip:
                skip = False
            elif word.startswith("-"):
                skip = word in _VALUED
            else:
                names.append(word)
    return names


def _image_users(dockerfile: Dockerfile, args: dict[str, str]) -> set[str] | None:
    """Users the image's own instructions create or switch to; None when one of them cannot
    be told (a name from a variable without a value, or a copied script that adds users)."""
    if any(tool in copied_scripts(dockerfile) for tool in _USER_TOOLS):
        return None
    users: set[str] = set()
    for stage in reversed(dockerfile.lineage()):
        values = {**dockerfile.global_args, **args}
        for ins in stage.instructions:
            if ins.keyword == "ARG":
                for name, default in parse_arg_instruction(ins.value).items():
                    values.setdefault(name, default)
            words = _created(ins.value) if ins.keyword == "RUN" else []
            words += [ins.value.split(":")[0].strip()] if ins.keyword == "USER" else []
            for word in words:
                resolver = Interpolator({**values, **{k: v for k, (v, _) in stage.env().items()}})
                resolved = resolver.resolve(word)
                if resolver.undefined or not resolved:
                    return None
                users.add(resolved)
    return users


def _known_users(stack: Stack) -> set[str] | None:
    """Every user the dev container's image has, when all of them can be told."""
    if _settings(stack).get("features"):
        return None  # a feature may add users
    service = stack.compose.services.get(stack.dev_service)
    if service is None:
        return None
    bases = service_images(stack, service)
    base = _base_users(bases[0]) if len(bases) == 1 else None
    if base is None:
        return None
    dockerfile = service_dockerfile(stack, service)
    if dockerfile is None:
        return set(base) if service.build is None else None
    own = _image_users(dockerfile, service.build.args if service.build else {})
    return None if own is None else own | base


@rule("DEV002", "devcontainer.json enters as a user the image never creates", Severity.ERROR)
def remote_user(stack: Stack) -> Iterator[Hit]:
    """`remoteUser` and `containerUser` name a user of the dev container's image: created by
    its Dockerfile (`useradd`, `adduser`, `USER`) or known in its base image (root, `node` in
    node images, `vscode` in the Dev Containers images). VS Code cannot enter as any other."""
    settings = _settings(stack)
    wanted = [
        (key, settings[key])
        for key in ("remoteUser", "containerUser")
        if isinstance(settings.get(key), str) and "$" not in settings[key]
    ]
    wanted = [(key, user) for key, user in wanted if not user.split(":")[0].isdigit()]
    users = _known_users(stack) if wanted else None
    for key, user in wanted:
        if users is not None and user not in users:
            yield Hit(
                stack.devcontainer.path,
                stack.devcontainer.doc.line_of(key),
                f"{key} {user!r} is not a user of service {stack.dev_service}'s image "
                f"(it has {', '.join(sorted(users - _SYSTEM_USERS) or ['root'])})",
                f"create it in the Dockerfile (useradd -m {user}) or name an existing user",
                key=key,
            )


@rule(IGNORED_KEY, "devcontainer.json key VS Code ignores", Severity.WARNING)
def ignored_keys(stack: Stack) -> Iterator[Hit]:
    """A top-level key the Dev Containers specification does not define does nothing; where
    the author likely meant it to go is named."""
    yield from (Hit.of(error) for error in stack.devcontainer.ignored)
