"""CPython source tarballs the host builder knows: the pins of .devcontainer/versions.json."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.model.stack import active_profile
from tasks.model.versions import SHA256_SHAPE, VERSION_SHAPE, VERSIONS_FILE, load_versions

FOLDER = Path(__file__).resolve().parents[2] / ".devcontainer"


@dataclass(frozen=True)
class Source:
    """A CPython source tarball: where it is and what its SHA-256 must be."""

    version: str
    url: str
    sha256: str
    origin: str

    @property
    def line(self) -> str:
        """`3.13` for `3.13.15`."""
        return ".".join(self.version.split(".")[:2])

    @property
    def filename(self) -> str:
        """The tarball's file name."""
        return self.url.rsplit("/", 1)[-1]


def pinned_sources() -> dict[str, Source]:
    """Every tarball versions.json pins, by CPython version (read when asked, not at import)."""
    versions = load_versions(FOLDER / VERSIONS_FILE)
    return {
        pin.version: Source(pin.version, pin.url, pin.sha256, f"pinned in {VERSIONS_FILE}")
        for pin in versions.all_pins()
    }


def default_version(profile: str | None = None) -> str:
    """The dev container's CPython for `profile` (default: the one .devcontainer/.env selects,
    else online)."""
    versions = load_versions(FOLDER / VERSIONS_FILE)
    chosen = profile or active_profile(FOLDER) or "online"
    return versions.images["devcontainer"].pins[chosen].version


def resolve_source(version: str, tarball: str = "", sha256: str = "") -> Source:
    """The source to build: a pinned release, or a tarball given with its checksum."""
    if not VERSION_SHAPE.fullmatch(version):
        raise ValueError(f"--version {version!r}: give a full release like 3.14.6 or 3.15.0b3")
    if tarball:
        if not SHA256_SHAPE.fullmatch(sha256):
            raise ValueError("--tarball needs --sha256 with the tarball's SHA-256 (64 hex digits)")
        return Source(version, tarball, sha256, "given with --tarball")
    known_sources = pinned_sources()
    if version not in known_sources:
        known = ", ".join(sorted(known_sources))
        raise ValueError(
            f"no pinned source for {version} (pinned: {known}); pin it with `invoke python.pin "
            f"{version} --sha256 HEX`, or pass --tarball URL_OR_PATH --sha256 HEX"
        )
    return known_sources[version]
