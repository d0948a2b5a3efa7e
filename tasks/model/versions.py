"""`.devcontainer/versions.json`: each free-threaded image's CPython pin, per image profile."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.errors import StackError

VERSIONS_FILE = "versions.json"
PROFILES = ("online", "offline")
VERSION_SHAPE = re.compile(r"3\.\d+\.\d+(?:(?:a|b|rc)\d+)?")
SHA256_SHAPE = re.compile(r"[0-9a-f]{64}")
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
    """The CPython of one image: its build-arg prefix, Dockerfile and pins per profile."""

    image: str
    variables: str
    dockerfile: str
    pins: dict[str, Pin]

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
    """A pin from its JSON form, or a `StackError` naming the key and the fix."""
    if not isinstance(data, dict):
        raise StackError(
            path, "a pin must be an object with version, url and sha256", _FIX, key=key
        )
    fields = {name: data.get(name) for name in ("version", "url", "sha256")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            raise StackError(path, f"{name} is missing or not a string", _FIX, key=f"{key}.{name}")
    pin = Pin(str(fields["version"]), str(fields["url"]), str(fields["sha256"]))
    if not VERSION_SHAPE.fullmatch(pin.version):
        raise StackError(
            path,
            f"version {pin.version!r} is not a CPython release like 3.14.6 or 3.15.0b3",
            _FIX,
            key=f"{key}.version",
        )
    if not SHA256_SHAPE.fullmatch(pin.sha256):
        raise StackError(path, "sha256 must be 64 lowercase hex digits", _FIX, key=f"{key}.sha256")
    if not re.match(r"https?://[^\s/]+/\S+$", pin.url):
        raise StackError(path, f"url {pin.url!r} is not an http(s) URL", _FIX, key=f"{key}.url")
    return pin


def _image(path: Path, name: str, entry: object) -> ImagePython:
    key = f"cpython.{name}"
    if not isinstance(entry, dict) or not isinstance(entry.get("pins"), dict):
        raise StackError(path, "an image needs variables, dockerfile and pins", _FIX, key=key)
    variables, dockerfile = entry.get("variables"), entry.get("dockerfile")
    if not isinstance(variables, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", variables):
        raise StackError(
            path, "variables must be a prefix like PYTHON", _FIX, key=f"{key}.variables"
        )
    if not isinstance(dockerfile, str) or not dockerfile:
        raise StackError(path, "dockerfile is missing", _FIX, key=f"{key}.dockerfile")
    missing = [p for p in PROFILES if p not in entry["pins"]]
    if missing:
        raise StackError(path, f"no pin for profile {missing[0]}", _FIX, key=f"{key}.pins")
    pins = {p: check_pin(path, f"{key}.pins.{p}", entry["pins"][p]) for p in PROFILES}
    return ImagePython(name, variables, dockerfile, pins)


def load_versions(path: Path) -> Versions:
    """Read and validate versions.json; every problem is one `StackError`."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackError(path, "versions file not found", "restore it from git") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        line = getattr(error, "lineno", None)
        raise StackError(
            path, f"not valid JSON ({error})", "fix the JSON syntax", line=line
        ) from None
    images = raw.get("cpython") if isinstance(raw, dict) else None
    if not isinstance(images, dict) or not images:
        raise StackError(path, "no `cpython` object of images", _FIX, key="cpython")
    return Versions(path, {n: _image(path, n, e) for n, e in images.items()}, raw)
