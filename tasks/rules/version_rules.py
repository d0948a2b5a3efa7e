"""CPython pins: the files generated from versions.json, tarballs that match their version,
and the profile `.devcontainer/.env` selects."""

from __future__ import annotations

from collections.abc import Iterator

from tasks.model.envfile import load_env_file
from tasks.model.generated import differences
from tasks.model.localenv import PROFILE_KEY, block_values
from tasks.model.source import present, read_text, trouble
from tasks.model.stack import LOCAL_ENV, PROFILES_DIR, Stack
from tasks.model.versions import PROFILES
from tasks.pybuild.pinfiles import render_views
from tasks.rules.base import Hit, Severity, rule

_REGENERATE = "run `invoke python.sync` to regenerate it from .devcontainer/versions.json"


@rule("VER001", "a file generated from versions.json has drifted", Severity.ERROR)
def generated_drift(stack: Stack) -> Iterator[Hit]:
    """Dockerfile ARG defaults, compose defaults and profiles/*.env agree with versions.json."""
    if stack.versions is None:
        return
    views = render_views(stack.folder, stack.versions, stack.compose.path)
    for found in differences(views):
        yield Hit(
            found.path,
            found.line,
            f"says {found.have.strip() or '(nothing)'!r} where versions.json gives "
            f"{found.want.strip() or '(nothing)'!r}",
            _REGENERATE,
        )


@rule("VER002", "a pinned tarball is not the version it claims", Severity.ERROR)
def tarball_matches_version(stack: Stack) -> Iterator[Hit]:
    """Each pin's tarball name carries its version (Python-3.14.6.tar.xz, python3.13_3.13.15...)."""
    if stack.versions is None:
        return
    for image in stack.versions.images.values():
        for profile, pin in image.pins.items():
            name = pin.filename
            if f"-{pin.version}." not in name and f"_{pin.version}." not in name:
                yield Hit(
                    stack.versions.path,
                    None,
                    f"cpython.{image.image}.pins.{profile}: {name} is not CPython {pin.version}",
                    "pin the tarball of that release (its name carries the version), or "
                    "correct the version",
                )


@rule("VER003", ".devcontainer/.env selects no profile, or a stale one", Severity.WARNING)
def local_profile(stack: Stack) -> Iterator[Hit]:
    """The profile block in .env is what VS Code and compose use; it must match its profile."""
    path = stack.folder / LOCAL_ENV
    if not present(path):
        return
    block = block_values(read_text(path, "env file"))
    name = block.get(PROFILE_KEY)
    if name is None:
        return
    fix = f"run `invoke env.init --profile {name}` to rewrite it"
    if name not in PROFILES or not (stack.folder / PROFILES_DIR / f"{name}.env").is_file():
        yield Hit(path, None, f"{PROFILE_KEY}={name} names no profile", fix)
        return
    wanted = load_env_file(stack.folder / PROFILES_DIR / f"{name}.env").as_dict()
    stale = sorted(k for k, v in wanted.items() if block.get(k) != v)
    if stale:
        yield Hit(
            path,
            None,
            f"the {name} profile block is stale ({', '.join(stale[:3])} differ from "
            f"profiles/{name}.env): VS Code and compose would build other versions",
            fix,
        )


@rule("VER004", "a free-threaded image's build does not get its pin", Severity.ERROR)
def pin_reaches_build(stack: Stack) -> Iterator[Hit]:
    """Each versions.json image is a compose service whose build passes its pin as
    PYTHON_VERSION, PYTHON_URL and PYTHON_SHA256; otherwise the build falls back to the
    Dockerfile's ARG defaults, another image's pin."""
    if stack.versions is None:
        return
    profile = stack.profile or "online"
    for name, image in stack.versions.images.items():
        service = stack.compose.services.get(name)
        if service is None or service.build is None:
            yield Hit(
                stack.versions.path,
                stack.versions.line("cpython", name),
                f"cpython.{name} names no compose service that builds an image",
                "name the entry after the service that builds it",
            )
            continue
        for suffix, value in image.pins[profile].to_json().items():
            arg = f"PYTHON_{suffix.upper()}"
            given = service.build.args.get(arg)
            if given != value:
                variable = image.variable(suffix.upper())
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", name, "build", "args", arg)
                    or stack.compose.line("services", name, "build"),
                    f"service {name} builds with {arg}={given!r}, not its {profile} pin {value!r}",
                    f"pass `{arg}: ${{{variable}:-...}}` in its build args, then run "
                    "`invoke python.sync`",
                )


@rule("VER005", "a versions.json entry names a Dockerfile that is not there", Severity.ERROR)
def pinned_dockerfiles(stack: Stack) -> Iterator[Hit]:
    """`dockerfile` of a versions.json entry is the Dockerfile whose ARG defaults carry its
    pin (relative to .devcontainer/); `invoke python.sync` cannot keep a missing one in step."""
    if stack.versions is None:
        return
    for name, image in stack.versions.images.items():
        found = trouble(stack.folder / image.dockerfile) if image.dockerfile else None
        if found is not None:
            yield Hit(
                stack.versions.path,
                stack.versions.line("cpython", name, "dockerfile"),
                f"cpython.{name}.dockerfile {image.dockerfile!r} {found[0]}",
                "name the Dockerfile relative to .devcontainer/, or remove `dockerfile` (the "
                "compose service then passes the pin)",
                key=f"cpython.{name}.dockerfile",
            )
