"""Resolve an environment's full tree against a free-threaded interpreter with `uv pip compile`,
wheels first: every package comes from a wheel that interpreter can install, except the packages
that publish none in the allowed range, which come from their sdist. A second, unconstrained
resolution gives the newest version of each package, for the report."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tasks.compat.environments import Environment
from tasks.compat.lock import Locked, LockError, normalize, read_lock

_NEEDS_SOURCE = re.compile(r"Wheels are required for `([^`]+)`")
ROUNDS = 12
"""Most packages one environment may need from source before the resolution gives up."""
TIMEOUT = 300


@dataclass(frozen=True)
class Resolution:
    """The resolved tree of one environment, or why it has none."""

    environment: Environment
    packages: tuple[Locked, ...] = ()
    newest: dict[str, str] = field(default_factory=dict)
    """Name -> newest version, for packages resolved to an older one to get a wheel."""
    error: str = ""


def needs_source(stderr: str) -> str | None:
    """The package uv could not resolve from wheels alone (it names it in a hint), if any."""
    found = _NEEDS_SOURCE.search(stderr)
    return normalize(found.group(1)) if found else None


def explain(stderr: str) -> str:
    """uv's reason a resolution failed, in one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    causes = [line for line in lines if not line.startswith(("hint:", "error: No solution"))]
    text = re.sub(r"\s+", " ", " ".join(causes or lines or ["uv pip compile failed"]))
    first = re.split(r"(?<=[a-z)]\.) ", text.replace("cause: ", ""), maxsplit=1)[0]
    return first[:400]


def _compile(
    uv: str, python: str, infile: Path, out: Path, options: list[str]
) -> tuple[list[Locked] | None, str]:
    """One `uv pip compile` to a pylock.toml: the packages, or None and uv's stderr."""
    command = [uv, "pip", "compile", "--quiet", "--no-header", "--python", python]
    try:
        result = subprocess.run(
            [*command, *options, "-o", str(out), str(infile)],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return None, f"uv pip compile took longer than {TIMEOUT} s"
    if result.returncode != 0:
        return None, result.stderr
    try:
        return read_lock(out.read_text(encoding="utf-8"), str(out)), ""
    except (OSError, LockError) as error:
        return None, str(error)


def wheels_first(
    uv: str, python: str, infile: Path, out: Path, extra: list[str]
) -> tuple[list[Locked] | None, str]:
    """Resolve from wheels only, allowing an sdist for each package uv names as having no
    usable wheel, one at a time."""
    sourced: list[str] = []
    for _ in range(ROUNDS):
        options = ["--only-binary", ":all:", *[f"--no-binary={name}" for name in sourced]]
        packages, stderr = _compile(uv, python, infile, out, [*options, *extra])
        if packages is not None:
            return packages, ""
        name = needs_source(stderr)
        if name is None or name in sourced:
            return None, explain(stderr)
        sourced.append(name)
    return None, f"more than {ROUNDS} packages have no wheel for this interpreter"


def resolve(uv: str, python: str, environment: Environment, workdir: Path) -> Resolution:
    """The environment's tree for `python` (its `--no-deps` requirements added alone)."""
    if environment.empty:
        return Resolution(environment)
    workdir.mkdir(parents=True, exist_ok=True)
    name = environment.name.replace(".", "-")
    found: dict[str, Locked] = {}
    newest: dict[str, str] = {}
    for suffix, requirements, extra in (
        ("", environment.requirements, []),
        ("-nodeps", environment.no_deps, ["--no-deps"]),
    ):
        if not requirements:
            continue
        infile = workdir / f"{name}{suffix}.in"
        infile.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        packages, error = wheels_first(
            uv, python, infile, workdir / f"pylock.{name}{suffix}.toml", extra
        )
        if packages is None:
            return Resolution(environment, error=error)
        for package in packages:
            found.setdefault(package.name, package)
        latest, _ = _compile(
            uv, python, infile, workdir / f"pylock.{name}{suffix}-newest.toml", extra
        )
        newest.update({p.name: p.version for p in latest or [] if p.name in found})
    changed = {k: v for k, v in newest.items() if v != found[k].version}
    return Resolution(environment, tuple(sorted(found.values(), key=lambda p: p.name)), changed)
