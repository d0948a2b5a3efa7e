"""`.devcontainer/versions.json`: each free-threaded image's CPython pin, per image profile.

Its shape is `tasks/schemas/versions.schema.json`; rule VER002 checks what a schema cannot, that
each tarball is the release it is pinned as."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.model.schemas import VERSIONS, load_schema, validate
from tasks.model.source import Document, load_json, present

VERSIONS_FILE = "versions.json"
_DEFS: dict[str, Any] = load_schema(VERSIONS)["$defs"]
PROFILES: tuple[str, ...] = tuple(_DEFS["pins"]["required"])
VERSION_SHAPE = re.compile(_DEFS["version"]["pattern"])
SHA256_SHAPE = re.compile(_DEFS["sha256"]["pattern"])
_FIX = "edit .devcontainer/versions.json, or use `invoke python.pin VERSION --sha256 HEX`"


@dataclass(frozen=True)
class Pin:
    """One CPython source: its release, the tarball's URL and the SHA-256 it must have."""

    version: str
    url: str
    sha256: str

    @property
    def filename(self) -> str:
        """The tarball's file name."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def line(self) -> str:
        """`3.14` for `3.14.6` (and for `3.14.0b1`)."""
        return ".".join(self.version.split(".")[:2])

    def to_json(self) -> dict[str, str]:
        """The pin as versions.json stores it."""
        return {"version": self.version, "url": self.url, "sha256": self.sha256}


@dataclass(frozen=True)
class ImagePython:
    """The CPython of one image: its build-arg prefix, pins per profile, and the Dockerfile whose
    ARG defaults carry its online pin (None for an image that only compose passes a pin)."""

    image: str
    variables: str
    pins: dict[str, Pin]
    dockerfile: str | None = None

    def variable(self, suffix: str) -> str:
        """`PYTHON_VERSION` for prefix `PYTHON` and suffix `VERSION`."""
        return f"{self.variables}_{suffix}"

    def values(self, profile: str) -> dict[str, str]:
        """The compose variables this image's pin sets for `profile`."""
        pin = self.pins[profile]
        return {
            self.variable("VERSION"): pin.version,
            self.variable("URL"): pin.url,
            self.variable("SHA256"): pin.sha256,
        }


@dataclass(frozen=True)
class Versions:
    """Every image's CPython pins, as read from versions.json."""

    path: Path
    images: dict[str, ImagePython]
    raw: dict[str, Any]
    doc: Document | None = None

    def line(self, *keys: str) -> int | None:
        """Line of a key path in the file (None when unknown)."""
        return self.doc.line_of(*keys) if self.doc else None

    def profile_values(self, profile: str) -> dict[str, str]:
        """Every image's variables for `profile`, in file order."""
        values: dict[str, str] = {}
        for image in self.images.values():
            values.update(image.values(profile))
        return values

    def all_pins(self) -> list[Pin]:
        """Every distinct pin (one per tarball)."""
        found: dict[str, Pin] = {}
        for image in self.images.values():
            for pin in image.pins.values():
                found.setdefault(pin.sha256, pin)
        return list(found.values())

    def with_pin(self, image: str, profile: str, pin: Pin) -> dict[str, Any]:
        """The file's data with one pin replaced (the caller writes it)."""
        data: dict[str, Any] = json.loads(json.dumps(self.raw))
        data["cpython"][image]["pins"][profile] = pin.to_json()
        return data


def check_pin(path: Path, key: str, data: object) -> Pin:
    """A pin from its JSON form, or a `StackError` naming `key` (where the pin came from, such
    as a command-line option), the field and the fix."""
    try:
        validate(Document(path, data), data, VERSIONS, _FIX, definition="pin")
    except StackError as error:
        where = f"{key}.{error.key}" if error.key else key
        raise StackError(path, error.problem, error.fix, key=where) from None
    return _pin(data)


def _pin(data: Any) -> Pin:
    return Pin(data["version"], data["url"], data["sha256"])


def _read(path: Path) -> Document:
    """versions.json with the line of every key. Plain JSON only: `invoke python.pin` rewrites
    it, and would drop comments."""
    if not present(path):
        raise StackError(path, "versions file not found", "restore it from git")
    return load_json(path, "versions file", "fix the JSON syntax")


def load_versions(path: Path) -> Versions:
    """Read versions.json and validate it against its schema; every problem is one `StackError`
    naming the line and key."""
    doc = _read(path)
    validate(doc, doc.data, VERSIONS, _FIX)
    raw: dict[str, Any] = doc.data
    images = {
        name: ImagePython(
            name,
            entry["variables"],
            {profile: _pin(entry["pins"][profile]) for profile in PROFILES},
            entry.get("dockerfile"),
        )
        for name, entry in raw["cpython"].items()
    }
    owners: dict[str, str] = {}
    for image in images.values():
        if image.dockerfile is None:
            continue
        owner = owners.setdefault(posixpath.normpath(image.dockerfile), image.image)
        if owner != image.image:
            raise StackError(
                path,
                f"images {owner} and {image.image} both name {image.dockerfile}, whose ARG "
                "defaults can carry one pin",
                'remove "dockerfile" from one of them (compose passes its pin)',
                line=doc.line_of("cpython", image.image, "dockerfile"),
                key=f"cpython.{image.image}.dockerfile",
            )
    return Versions(path, images, raw, doc)
