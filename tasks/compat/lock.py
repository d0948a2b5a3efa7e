"""A resolved tree as uv writes it (`pylock.toml`, PEP 751), and the kind of artifact each
package installs on the interpreter it was resolved for: uv lists only the wheels that
interpreter can install, so a package without one builds from its sdist."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

SDIST = "sdist"
PURE = "pure"
ABI3 = "abi3"
NO_ABI = "binary, no Python ABI"
"""A platform wheel without Python extension modules (a bundled executable, e.g. ruff)."""


class LockError(ValueError):
    """A pylock.toml that cannot be read."""


@dataclass(frozen=True)
class Locked:
    """One resolved package: its version and the file the interpreter installs."""

    name: str
    version: str
    kind: str
    filename: str


def wheel_kind(filename: str) -> str:
    """`cp313t` (free-threaded ABI), `abi3`, `pure`, `binary, no Python ABI`, another ABI tag,
    or `sdist` for anything that is not a wheel."""
    if not filename.endswith(".whl"):
        return SDIST
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return SDIST
    abi, platform = parts[-2], parts[-1]
    if abi == "abi3":
        return ABI3
    if abi == "none":
        return PURE if platform == "any" else NO_ABI
    return abi


def normalize(name: str) -> str:
    """The canonical form of a distribution name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str, source: str) -> list[Locked]:
    """The packages of a pylock.toml, by name; a file uv did not write is a `LockError`
    naming `source`."""
    try:
        packages = tomllib.loads(text)["packages"]
        found = []
        for package in packages:
            wheels = package.get("wheels") or []
            url = str(wheels[0]["url"] if wheels else package.get("sdist", {}).get("url", ""))
            filename = url.rsplit("/", 1)[-1]
            kind = wheel_kind(filename) if wheels else SDIST
            found.append(
                Locked(normalize(package["name"]), str(package["version"]), kind, filename)
            )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, IndexError) as error:
        raise LockError(f"{source}: not a pylock.toml uv wrote ({error})") from None
    return sorted(found, key=lambda locked: locked.name)
