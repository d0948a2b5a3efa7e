"""`invoke python.*`: a free-threaded CPython for the host, for nox and local work."""

from __future__ import annotations

import os

from invoke.context import Context

from tasks.contract import present, task
from tasks.errors import Failure, UsageError
from tasks.helpflag import show_help_if_asked
from tasks.outcome import Outcome


@task(
    name="freethreaded",
    help={
        "version": "CPython release to build (default: the dev container's for the profile)",
        "profile": "image profile whose pin is the default: online or offline "
        "(default: the one .devcontainer/.env selects, else online)",
        "tarball": "URL or path of a source tarball (needs --sha256)",
        "sha256": "SHA-256 the tarball must have",
        "jobs": "parallel compile jobs (default: number of CPUs)",
        "json": "print JSON",
    },
)
def freethreaded(
    c: Context,
    version: str = "",
    profile: str = "",
    tarball: str = "",
    sha256: str = "",
    jobs: int = 0,
    json: bool = False,
) -> None:
    """Build a free-threaded CPython (`--disable-gil`) into the cache, or reuse it.

    The tarball's SHA-256 is checked before anything runs; the result is verified
    (Py_GIL_DISABLED == 1, GIL off) before it is installed. Prints how to put it on PATH.
    """
    from rich.markup import escape

    from tasks.pybuild.builder import BuildFailed, build, cache_root, prefix_for
    from tasks.pybuild.sources import default_version, resolve_source
    from tasks.report import console

    try:
        source = resolve_source(version or default_version(profile or None), tarball, sha256)
    except ValueError as error:
        raise UsageError(str(error)) from None
    root = cache_root()
    say = (lambda _: None) if json else (lambda text: console.print(f"[dim]{escape(text)}[/]"))
    try:
        python = build(source, root, jobs or os.cpu_count() or 1, say)
    except (BuildFailed, OSError) as error:
        raise Failure(str(error)) from None
    bin_dir = prefix_for(source, root) / "bin"
    data = {
        "python": str(python),
        "bin": str(bin_dir),
        "version": source.version,
        "sha256": source.sha256,
        "origin": source.origin,
    }
    views = [
        f"free-threaded Python {source.version}: {python}",
        f'put it on PATH:  export PATH="{bin_dir}:$PATH"',
    ]
    present(Outcome(data, views), json)


@task(
    name="pin",
    positional=["version"],
    help={
        "version": "CPython release, e.g. 3.14.7 or 3.15.0b4",
        "sha256": "the SHA-256 the publisher lists for the tarball (64 hex digits)",
        "image": "image to pin (default: the one on the same X.Y line)",
        "profile": "profile whose pin changes: online (default) or offline",
        "url": "tarball URL (default: python.org's for VERSION)",
        "json": "print JSON",
    },
)
def pin(
    c: Context,
    version: str,
    sha256: str = "",
    image: str = "",
    profile: str = "online",
    url: str = "",
    json: bool = False,
) -> None:
    """Pin an image's CPython in .devcontainer/versions.json and regenerate what derives from it.

    The Dockerfile ARG defaults, the compose defaults and profiles/*.env follow the file;
    `invoke check` (VER001) fails when they drift. A malformed version or checksum changes
    nothing. Then `invoke env.init --profile NAME` refreshes .devcontainer/.env.
    """
    from tasks.model.versions import VERSIONS_FILE, load_versions
    from tasks.pybuild.pinfiles import image_for_version, pin_image, regenerate
    from tasks.report import REPO_ROOT

    show_help_if_asked(version, "python.pin")
    path = REPO_ROOT / ".devcontainer" / VERSIONS_FILE
    versions = load_versions(path)
    try:
        target = image or image_for_version(versions, version)
        versions = pin_image(path, target, profile, version, sha256, url)
    except ValueError as error:
        raise UsageError(str(error)) from None
    present(regenerate(REPO_ROOT, versions), json)


@task(name="sync", help={"json": "print JSON"})
def sync(c: Context, json: bool = False) -> None:
    """Regenerate the files derived from .devcontainer/versions.json (after editing it by hand)."""
    from tasks.model.versions import VERSIONS_FILE, load_versions
    from tasks.pybuild.pinfiles import regenerate
    from tasks.report import REPO_ROOT

    versions = load_versions(REPO_ROOT / ".devcontainer" / VERSIONS_FILE)
    present(regenerate(REPO_ROOT, versions), json)
