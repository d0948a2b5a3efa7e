"""Known CPython source tarballs and their verified checksums."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_VERSION = "3.13.15"


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


# SHA-256 of Debian's python3.13 orig tarball (the upstream release), as listed in
# python3.13_3.13.15-1.dsc.
KNOWN: dict[str, Source] = {
    "3.13.15": Source(
        "3.13.15",
        "http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz",
        "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76",
        "Debian's archive (upstream tarball, checksum from python3.13_3.13.15-1.dsc)",
    ),
}


def resolve_source(version: str, tarball: str = "", sha256: str = "") -> Source:
    """The source to build: a known release, or a tarball given with its checksum."""
    if not re.fullmatch(r"3\.\d+\.\d+", version):
        raise ValueError(f"--version {version!r}: give a full release like 3.14.2")
    if tarball:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("--tarball needs --sha256 with the tarball's SHA-256 (64 hex digits)")
        return Source(version, tarball, sha256, "given with --tarball")
    if version not in KNOWN:
        known = ", ".join(sorted(KNOWN))
        raise ValueError(
            f"no verified source for {version} (known: {known}); pass --tarball URL_OR_PATH "
            "--sha256 HEX (e.g. Python-X.Y.Z.tar.xz from python.org)"
        )
    return KNOWN[version]
